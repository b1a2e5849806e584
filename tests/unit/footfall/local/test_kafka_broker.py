"""The private broker's configuration: loopback listeners, no topics created on the fly,
and cluster ids the storage tool accepts."""

from pathlib import Path

from footfall.local.kafka_broker import BrokerConfig, cluster_id, cluster_nodes, local_cluster, server_properties
from infra.config import Settings


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


def test_a_cluster_has_every_node_as_voter_its_own_folder_and_replicated_internal_topics(tmp_path: Path) -> None:
    nodes = cluster_nodes("127.0.0.1", [(19092, 19093), (19094, 19095), (19096, 19097)], tmp_path, tmp_path, tmp_path / "log4j.properties", "256m")
    assert [node.name for node in nodes] == ["kafka-1", "kafka-2", "kafka-3"]
    assert len({node.data_dir for node in nodes}) == 3
    properties = dict(line.split("=", 1) for line in server_properties(nodes[2]).splitlines())
    assert properties["node.id"] == "3"
    assert properties["controller.quorum.voters"] == "1@127.0.0.1:19093,2@127.0.0.1:19095,3@127.0.0.1:19097"
    assert properties["listeners"] == "PLAINTEXT://127.0.0.1:19096,CONTROLLER://127.0.0.1:19097"
    assert properties["offsets.topic.replication.factor"] == "3"
    assert properties["transaction.state.log.min.isr"] == "2"


def test_a_local_cluster_counts_ports_up_two_apart_from_the_configured_ones(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path, kafka_bootstrap="127.0.0.1:9192", kafka_controller_port=9193)
    nodes = local_cluster(settings, 3)
    assert [(node.port, node.controller_port) for node in nodes] == [(9192, 9193), (9194, 9195), (9196, 9197)]
    assert nodes[0].data_dir == tmp_path / "kafka-3" / "node-1"
    # One broker keeps the folder (and the data) a single broker always had.
    (alone,) = local_cluster(settings, 1)
    assert (alone.name, alone.data_dir) == ("kafka", tmp_path / "kafka")
