"""The publisher's partitioner agrees with Kafka's default one, so a key lands where any
other Kafka client would put it."""

from aiokafka.partitioner import DefaultPartitioner
from hypothesis import given
from hypothesis import strategies as st

from infra.kafka.publisher import partition_for


@given(st.binary(min_size=1, max_size=64), st.integers(1, 64))
def test_partitioning_matches_kafkas_default(key: bytes, partitions: int) -> None:
    every = list(range(partitions))
    assert partition_for(key, every, every) == DefaultPartitioner()(key, every, every)
