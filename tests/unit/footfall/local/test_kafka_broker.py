"""The private broker's configuration: loopback listeners, no topics created on the fly,
and cluster ids the storage tool accepts."""

from pathlib import Path

from footfall.local.kafka_broker import BrokerConfig, cluster_id, server_properties


def test_server_properties_bind_loopback_and_disable_auto_create(tmp_path: Path) -> None:
    config = BrokerConfig("127.0.0.1", 19092, 19093, tmp_path, tmp_path, tmp_path / "log4j.properties")
    properties = dict(line.split("=", 1) for line in server_properties(config).splitlines())
    assert properties["listeners"] == "PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093"
    assert properties["controller.quorum.voters"] == "1@127.0.0.1:19093"
    assert properties["auto.create.topics.enable"] == "false"
    assert properties["log.dirs"] == str(tmp_path / "data")


def test_cluster_ids_never_look_like_an_option() -> None:
    ids = {cluster_id() for _ in range(2000)}
    assert len(ids) == 2000
    assert all(len(i) == 22 and not i.startswith("-") for i in ids)
