"""The topics as created: the configured retention on the topics that go by age, Kafka's
"for ever" for 0, and the compacted changelogs as they are."""

from infra.config import Retention
from infra.kafka.admin import configured_topics
from schemas.topics import ALL_TOPICS, DAY_MS, DEAD_LETTER, ERASURES, EVENT_TOPICS, VISITORS_CHANGELOG, WEBHOOKS_DEAD


def retention_ms(retention: Retention) -> dict[str, str]:
    return {topic.name: topic.config["retention.ms"] for topic in configured_topics(retention)}


def test_each_group_gets_its_configured_retention() -> None:
    configured = retention_ms(Retention(event_topics_days=3, dead_letter_topic_days=14, erasures_topic_days=60))
    assert {configured[topic.name] for topic in EVENT_TOPICS} == {str(3 * DAY_MS)}
    assert configured[DEAD_LETTER.name] == configured[WEBHOOKS_DEAD.name] == str(14 * DAY_MS)
    assert configured[ERASURES.name] == str(60 * DAY_MS)


def test_zero_keeps_records_for_ever() -> None:
    configured = retention_ms(Retention(event_topics_days=0, erasures_topic_days=0))
    assert configured[EVENT_TOPICS[0].name] == configured[ERASURES.name] == "-1"


def test_every_topic_is_there_and_what_is_not_retention_is_unchanged() -> None:
    topics = configured_topics(Retention(event_topics_days=1))
    assert [topic.name for topic in topics] == [topic.name for topic in ALL_TOPICS]
    assert [(topic.partitions, topic.extra_config) for topic in topics] == [(topic.partitions, topic.extra_config) for topic in ALL_TOPICS]
    changelog = next(topic for topic in topics if topic.name == VISITORS_CHANGELOG.name)
    assert changelog.config == VISITORS_CHANGELOG.config
    assert changelog.config["cleanup.policy"] == "compact"
