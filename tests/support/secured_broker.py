"""A broker whose clients must come over SASL_SSL (PLAIN), as a managed cluster asks: a test
CA and a broker certificate made with openssl and keytool in the test's folder, the
broker's own jars and footfall's broker code with the listener set over its own."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, replace
from pathlib import Path

from footfall.local.kafka_broker import Broker, private_nodes
from infra.config import Settings
from infra.kafka.connection import KafkaConnection

USER = "footfall"
PASSWORD = "footfall-test-secret"
STORE_PASSWORD = "store-secret"


@dataclass(frozen=True)
class Certificates:
    ca: Path
    keystore: Path
    truststore: Path


def _run(*command: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{command[0]} failed: {done.stdout}{done.stderr}")


def make_certificates(folder: Path) -> Certificates:
    """A CA, and a broker certificate it signed for 127.0.0.1 (clients verify the host)."""
    folder.mkdir(parents=True, exist_ok=True)
    ca, ca_key = folder / "ca.pem", folder / "ca.key"
    key, request, cert = folder / "broker.key", folder / "broker.csr", folder / "broker.pem"
    names = folder / "names.ext"
    names.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    _run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(ca_key), "-out", str(ca), "-days", "2", "-subj", "/CN=footfall test CA")
    _run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(request), "-subj", "/CN=127.0.0.1")
    _run(
        "openssl", "x509", "-req", "-in", str(request), "-CA", str(ca), "-CAkey", str(ca_key), "-CAcreateserial",
        "-out", str(cert), "-days", "2", "-extfile", str(names),
    )
    keystore, truststore = folder / "broker.p12", folder / "truststore.p12"
    _run(
        "openssl", "pkcs12", "-export", "-in", str(cert), "-inkey", str(key), "-certfile", str(ca), "-name", "broker",
        "-out", str(keystore), "-passout", f"pass:{STORE_PASSWORD}",
    )
    _run(
        "keytool", "-importcert", "-noprompt", "-alias", "ca", "-file", str(ca), "-keystore", str(truststore),
        "-storetype", "PKCS12", "-storepass", STORE_PASSWORD,
    )
    return Certificates(ca, keystore, truststore)


def sasl_ssl_properties(port: int, controller_port: int, certificates: Certificates) -> tuple[tuple[str, str], ...]:
    """One SASL_SSL listener for clients and the broker itself; the controller in plain text on loopback."""
    jaas = (
        'org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret" '
        f'user_admin="admin-secret" user_{USER}="{PASSWORD}";'
    )
    return (
        ("listeners", f"SASL_SSL://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}"),
        ("advertised.listeners", f"SASL_SSL://127.0.0.1:{port}"),
        ("inter.broker.listener.name", "SASL_SSL"),
        ("listener.security.protocol.map", "SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT"),
        ("sasl.enabled.mechanisms", "PLAIN"),
        ("sasl.mechanism.inter.broker.protocol", "PLAIN"),
        ("listener.name.sasl_ssl.plain.sasl.jaas.config", jaas),
        ("ssl.keystore.type", "PKCS12"),
        ("ssl.keystore.location", str(certificates.keystore)),
        ("ssl.keystore.password", STORE_PASSWORD),
        ("ssl.key.password", STORE_PASSWORD),
        ("ssl.truststore.type", "PKCS12"),
        ("ssl.truststore.location", str(certificates.truststore)),
        ("ssl.truststore.password", STORE_PASSWORD),
    )


def client_env(certificates: Certificates, password: str = PASSWORD) -> dict[str, str]:
    """What a footfall process is configured with to reach the secured broker."""
    return {
        "FOOTFALL_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "FOOTFALL_KAFKA_SASL_MECHANISM": "PLAIN",
        "FOOTFALL_KAFKA_SASL_USERNAME": USER,
        "FOOTFALL_KAFKA_SASL_PASSWORD": password,
        "FOOTFALL_KAFKA_SSL_CAFILE": str(certificates.ca),
    }


def start_secured(folder: Path, heap: str = "512m") -> tuple[Broker, Certificates]:
    """A single broker on free ports whose clients need SASL_SSL, every topic created over
    it with footfall's own admin client; stopped again if it does not come up."""
    certificates = make_certificates(folder / "tls")
    (node,) = private_nodes(folder, Settings(), 1, heap)
    node = replace(node, overrides=sasl_ssl_properties(node.port, node.controller_port, certificates))
    connection = KafkaConnection(
        bootstrap=node.bootstrap, security_protocol="SASL_SSL", sasl_mechanism="PLAIN",
        sasl_username=USER, sasl_password=PASSWORD, ssl_cafile=certificates.ca,
    )
    broker = Broker([node], folder, Settings().retention, secured=connection)
    try:
        broker.start()
    except BaseException:
        broker.stop()
        raise
    return broker, certificates
