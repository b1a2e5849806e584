"""footfall's clients on a broker that takes only SASL_SSL (PLAIN, a CA of the test's own),
as a managed cluster does: the pipeline end to end through the collector to ClickHouse
(producer, Faust worker, sink consumer and admin all authenticating and verifying the
broker's certificate), and `footfall up` refusing wrong credentials with the broker's reason."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from footfall.local.kafka_broker import Broker
from footfall.local.processes import Registry
from tests.support.cli_runs import footfall as run
from tests.support.cli_runs import stack_env
from tests.support.pipeline import start_pipeline
from tests.support.secured_broker import Certificates, client_env, start_secured
from tests.support.visits import assert_landed_exactly, send_visits

WRONG = "not-the-password-4b1d"


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Broker, Certificates]]:
    broker, certificates = start_secured(tmp_path_factory.mktemp("secured"))
    try:
        yield broker, certificates
    finally:
        broker.stop()


def test_the_pipeline_runs_over_sasl_ssl_with_the_ca_file_and_credentials(secured: tuple[Broker, Certificates], tmp_path: Path) -> None:
    broker, certificates = secured
    pipeline = start_pipeline(broker, tmp_path, **client_env(certificates))
    try:
        run_id = uuid.uuid4().hex[:8]
        assert_landed_exactly(pipeline, run_id, send_visits(pipeline.collector.url, run_id))
    finally:
        pipeline.stop()


def test_up_refuses_a_wrong_password_with_the_brokers_reason_and_never_prints_it(secured: tuple[Broker, Certificates], tmp_path: Path) -> None:
    broker, certificates = secured
    env = {**stack_env(tmp_path), "FOOTFALL_KAFKA_BOOTSTRAP": broker.bootstrap, **client_env(certificates, password=WRONG)}
    try:
        up = run(["up", "--detach"], env)
        said = " ".join((up.stdout + up.stderr).split())
        assert up.returncode == 1, said
        assert f"kafka at {broker.bootstrap} cannot be used" in said
        assert "Authentication failed: Invalid username or password" in said
        assert WRONG not in said
        assert Registry(tmp_path / "state" / "stack.json").load() == []
    finally:
        run(["down"], env)


def test_up_refuses_a_broker_certificate_its_ca_did_not_sign(secured: tuple[Broker, Certificates], tmp_path: Path) -> None:
    broker, certificates = secured
    other_ca = tmp_path / "other-ca.pem"
    other_ca.write_text(Path("/etc/ssl/certs/ca-certificates.crt").read_text())
    env = {**stack_env(tmp_path), "FOOTFALL_KAFKA_BOOTSTRAP": broker.bootstrap, **client_env(certificates), "FOOTFALL_KAFKA_SSL_CAFILE": str(other_ca)}
    up = run(["up", "--detach"], env)
    said = " ".join((up.stdout + up.stderr).split())
    assert up.returncode == 1 and "CERTIFICATE_VERIFY_FAILED" in said, said
