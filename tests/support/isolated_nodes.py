"""A 3-node cluster whose nodes each run in a network namespace of their own, joined to this
machine by a bridge on a private subnet: taking a node's link down cuts it off the other
nodes and every client while it keeps running, as a network partition does. Nothing is
reachable from outside this machine: the subnet exists only on the bridge."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from footfall.local.kafka_broker import Broker, cluster_nodes
from infra.config import Settings
from tests.support.pipeline import CLUSTER_HEAP, CLUSTER_NODES

# A private subnet unlikely to be routed here; the machine's side of the bridge is .1.
SUBNET = "10.231.7"
BROKER_PORT, CONTROLLER_PORT = 9092, 9093  # each namespace has its own ports


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True)


@dataclass(frozen=True)
class Links:
    """The bridge and, per node id, its namespace and the machine's end of its link."""

    bridge: str
    namespaces: dict[int, str]
    machine_ends: dict[int, str]

    def cut(self, node_id: int) -> None:
        ip("link", "set", self.machine_ends[node_id], "down")

    def mend(self, node_id: int) -> None:
        ip("link", "set", self.machine_ends[node_id], "up")

    def remove(self) -> None:
        for end in self.machine_ends.values():
            subprocess.run(["ip", "link", "del", end], capture_output=True)
        for namespace in self.namespaces.values():
            subprocess.run(["ip", "netns", "del", namespace], capture_output=True)
        subprocess.run(["ip", "link", "del", self.bridge], capture_output=True)


def address(node_id: int) -> str:
    return f"{SUBNET}.{10 + node_id}"


def linked(tag: str) -> Links:
    """The bridge and one namespace per node, each with its address on the subnet."""
    links = Links(f"ffbr{tag}", {n: f"ffns{tag}n{n}" for n in range(1, CLUSTER_NODES + 1)},
                  {n: f"ffv{tag}n{n}" for n in range(1, CLUSTER_NODES + 1)})
    try:
        ip("link", "add", links.bridge, "type", "bridge")
        ip("addr", "add", f"{SUBNET}.1/24", "dev", links.bridge)
        ip("link", "set", links.bridge, "up")
        for node_id, namespace in links.namespaces.items():
            inner = f"ffi{tag}n{node_id}"
            ip("netns", "add", namespace)
            ip("link", "add", links.machine_ends[node_id], "type", "veth", "peer", "name", inner)
            ip("link", "set", inner, "netns", namespace)
            ip("link", "set", links.machine_ends[node_id], "master", links.bridge, "up")
            ip("-n", namespace, "addr", "add", f"{address(node_id)}/24", "dev", inner)
            ip("-n", namespace, "link", "set", inner, "up")
            ip("-n", namespace, "link", "set", "lo", "up")
    except BaseException:
        links.remove()
        raise
    return links


@contextmanager
def isolated_cluster(folder: Path) -> Iterator[tuple[Broker, Links]]:
    """The cluster started in its namespaces, topics created; everything removed after."""
    links = linked(f"{os.getpid() % 10_000}")
    settings = Settings()
    template = cluster_nodes("127.0.0.1", [(BROKER_PORT, CONTROLLER_PORT)] * CLUSTER_NODES, folder / "kafka",
                             settings.kafka_libs, settings.deploy_dir / "kafka" / "log4j.properties", CLUSTER_HEAP)
    voters = ",".join(f"{node.node_id}@{address(node.node_id)}:{CONTROLLER_PORT}" for node in template)
    nodes = [replace(node, host=address(node.node_id), voters=voters, namespace=links.namespaces[node.node_id]) for node in template]
    broker = Broker(nodes, folder, settings.retention)
    try:
        broker.start()
        yield broker, links
    finally:
        broker.stop()
        links.remove()
