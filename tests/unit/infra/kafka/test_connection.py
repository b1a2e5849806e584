"""The Kafka connection settings: what every client is made from, complete or refused, and
the SASL password never shown."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
from pydantic import ValidationError

from infra.config import Settings
from infra.kafka.connection import KafkaConnection

PASSWORD = "s3cret-never-shown"


def test_the_default_is_the_local_broker_in_plain_text() -> None:
    options = Settings().kafka.client_options()
    assert options == {"bootstrap_servers": "127.0.0.1:9092", "security_protocol": "PLAINTEXT"}


def test_sasl_ssl_gives_every_client_the_mechanism_the_credentials_and_a_verifying_tls_context(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FOOTFALL_KAFKA_BOOTSTRAP", "b-1.kafka.example:9096,b-2.kafka.example:9096")
    monkeypatch.setenv("FOOTFALL_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("FOOTFALL_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512")
    monkeypatch.setenv("FOOTFALL_KAFKA_SASL_USERNAME", "footfall")
    monkeypatch.setenv("FOOTFALL_KAFKA_SASL_PASSWORD", PASSWORD)
    connection = Settings().kafka
    options = connection.client_options()
    assert connection.brokers == ["b-1.kafka.example:9096", "b-2.kafka.example:9096"]
    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert (options["sasl_plain_username"], options["sasl_plain_password"]) == ("footfall", PASSWORD)
    context = options["ssl_context"]
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname


def test_the_password_is_in_no_repr_and_no_error(monkeypatch: pytest.MonkeyPatch) -> None:
    connection = KafkaConnection(security_protocol="SASL_PLAINTEXT", sasl_username="footfall", sasl_password=PASSWORD)
    assert PASSWORD not in repr(connection) and PASSWORD not in str(connection)
    monkeypatch.setenv("FOOTFALL_KAFKA_SASL_PASSWORD", PASSWORD)
    monkeypatch.setenv("FOOTFALL_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("FOOTFALL_KAFKA_SSL_CAFILE", "/nonexistent/ca.pem")
    monkeypatch.setenv("FOOTFALL_KAFKA_SASL_MECHANISM", "NOT-A-MECHANISM")
    with pytest.raises(ValidationError) as refused:
        Settings()
    assert "kafka_sasl_mechanism" in str(refused.value)
    assert PASSWORD not in str(refused.value) and PASSWORD not in repr(refused.value)
    monkeypatch.setenv("FOOTFALL_KAFKA_SASL_MECHANISM", "PLAIN")
    with pytest.raises(ValidationError) as refused:
        Settings()
    assert "SASL_USERNAME" in str(refused.value) and PASSWORD not in str(refused.value)
    monkeypatch.delenv("FOOTFALL_KAFKA_SSL_CAFILE")
    settings = Settings(kafka_security_protocol="SASL_PLAINTEXT", kafka_sasl_username="footfall")
    assert settings.kafka_sasl_password is not None and PASSWORD not in repr(settings)


def test_sasl_without_credentials_is_refused_when_the_settings_are_read() -> None:
    with pytest.raises(ValidationError, match="SASL_SSL needs FOOTFALL_KAFKA_SASL_USERNAME and FOOTFALL_KAFKA_SASL_PASSWORD"):
        Settings(kafka_security_protocol="SASL_SSL")


def test_tls_files_must_exist_and_go_with_a_tls_protocol(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="FOOTFALL_KAFKA_SSL_CAFILE names .*missing.pem, which is not a file"):
        Settings(kafka_security_protocol="SSL", kafka_ssl_cafile=tmp_path / "missing.pem")
    ca = tmp_path / "ca.pem"
    ca.write_text("")
    with pytest.raises(ValidationError, match="the security protocol is PLAINTEXT; use SSL or SASL_SSL"):
        Settings(kafka_ssl_cafile=ca)
    with pytest.raises(ValidationError, match="needs both FOOTFALL_KAFKA_SSL_CERTFILE and FOOTFALL_KAFKA_SSL_KEYFILE"):
        Settings(kafka_security_protocol="SSL", kafka_ssl_certfile=ca)


@pytest.mark.parametrize("bootstrap", ["", "kafka.example", "a:1,,b:2", "a:1 b:2", "a:123456"])
def test_a_malformed_bootstrap_is_refused(bootstrap: str) -> None:
    with pytest.raises(ValidationError):
        Settings(kafka_bootstrap=bootstrap)


def test_the_replication_factor_is_bounded() -> None:
    assert Settings().kafka_replication is None
    assert Settings(kafka_replication=3).kafka_replication == 3
    for absurd in (0, -1, 100):
        with pytest.raises(ValidationError):
            Settings(kafka_replication=absurd)
