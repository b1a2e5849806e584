"""Dead letters keep why a message was refused and what it looked like, never an IP address,
an email address, the write key or credentials, whatever shape the message has."""

from __future__ import annotations

import base64
from collections.abc import Iterable

import orjson
import pytest
from starlette.testclient import TestClient

from collector.app import create_app
from collector.dead_letters import WRITE_KEY_MARK, dead_letter_reason, dead_letter_text
from collector.personal_data import TOO_DEEP, PersonalData, personal_hash
from infra.config import Settings, Site
from infra.kafka.publisher import Record
from schemas import topics

KEY = b"site-key-for-tests-0123456789abcdef"
PERSONAL = PersonalData.for_site({}, lambda: KEY)
WRITE_KEY = "shop_write_key_1"
IP = "86.128.12.77"
IPV6 = "2a02:c7f:1234:5678:9abc:def0:1234:5678"
EMAIL = "jane.doe+shop@example.com"
SECRETS = (IP, "12.77", IPV6, "9abc:def0", EMAIL, "jane.doe", WRITE_KEY)


def kept(raw: object, limit: int = 32 * 1024) -> str:
    return dead_letter_text(raw, PERSONAL, WRITE_KEY, 32, limit)


def holds_no_secret(text: str) -> bool:
    return not any(secret.lower() in text.lower() for secret in SECRETS)


def test_a_refused_group_call_keeps_its_shape_without_ip_email_or_key() -> None:
    raw = {
        "type": "group", "groupId": "g1", "userId": EMAIL, "writeKey": WRITE_KEY,
        "traits": {"email": EMAIL, "name": "Jane Doe", "plan": "pro"},
        "context": {"ip": IP, "traits": {"Email": EMAIL}, "page": {"url": f"https://shop.example/?e={EMAIL.replace('@', '%40')}&ip={IP}"},
                    "headers": {"Authorization": "Basic " + base64.b64encode(f"{WRITE_KEY}:".encode()).decode()}},
        "integrations": {"Intercom": {"email": EMAIL}},
        "messageId": "m-1",
    }
    text = kept(raw)
    assert holds_no_secret(text), text
    letter = orjson.loads(text)
    assert letter["context"]["ip"] == "86.128.12.0"
    assert "writeKey" not in letter and letter["context"]["headers"] == {}
    assert letter["traits"] == {"email": personal_hash(KEY, EMAIL), "name": personal_hash(KEY, "Jane Doe"), "plan": "pro"}
    # Found in text or under a personal name, an email hashes alike: dead letters join on it.
    assert letter["userId"] == letter["integrations"]["Intercom"]["email"] == personal_hash(KEY, EMAIL)
    assert letter["messageId"] == "m-1" and letter["groupId"] == "g1"


@pytest.mark.parametrize(
    "raw",
    [
        f"{EMAIL} from {IP} with {WRITE_KEY}",
        [EMAIL, IP, {"ip": IPV6}],
        {f"{EMAIL}": 1, f"from {IP}": 2, "v6": f"[{IPV6}]:443", "mapped": f"::ffff:{IP}"},
        {"type": "track", "context": {"ip": f"{IP}, 10.0.0.1"}, "note": f"mail {EMAIL.upper()} at ({IP})."},
        {"type": "track", "context": {"ip": {"nested": IP}}},
        {"properties": {"x": "Basic " + base64.b64encode(b"user:secret-password").decode()}, "password": "hunter2"},
    ],
    ids=["a bare string", "a list", "secrets as keys", "secrets in prose", "an ip object", "credentials"],
)
def test_hostile_shapes_keep_no_secret(raw: object) -> None:
    text = kept(raw)
    assert holds_no_secret(text), text
    assert "secret-password" not in text and "hunter2" not in text and "dXNlcjpzZWNyZXQtcGFzc3dvcmQ" not in text


def test_an_ip_that_is_not_an_address_is_left_out_and_ordinary_text_is_left_alone() -> None:
    letter = orjson.loads(kept({"context": {"ip": "not an address"}, "plan": "basic plan", "at": "2026-11-22T10:00:00.000Z",
                                "agent": "Chrome/120.0.6099.109", "ratio": "3:4:5"}))
    assert letter == {"context": {"ip": None}, "plan": "basic plan", "at": "2026-11-22T10:00:00.000Z",
                      "agent": "Chrome/120.0.6099.109", "ratio": "3:4:5"}


def test_a_cut_dead_letter_is_cut_after_scrubbing() -> None:
    raw = {"traits": {"bio": ("x" * 40 + f" {EMAIL} {IP}") * 200}}
    for limit in range(1000, 1100):
        assert holds_no_secret(kept(raw, limit))


def test_nesting_past_the_bound_is_replaced_by_a_note() -> None:
    deep: dict = {}
    inner = deep
    for _ in range(900):
        inner["x"] = {}
        inner = inner["x"]
    inner["email"] = EMAIL
    text = kept(deep)
    assert holds_no_secret(text) and TOO_DEEP in text and text.count("{") == 32


def test_a_kept_email_is_still_hashed_in_a_dead_letter() -> None:
    keeping = PersonalData.for_site({"email": "keep"}, lambda: KEY)
    text = dead_letter_text({"traits": {"email": EMAIL}}, keeping, WRITE_KEY, 32, 32 * 1024)
    assert orjson.loads(text) == {"traits": {"email": personal_hash(KEY, EMAIL)}}


def test_a_reason_that_quotes_the_sender_is_masked() -> None:
    reason = dead_letter_reason(f"type: must be one of track, page, identify, got '{EMAIL}' from {IP} ({WRITE_KEY})", PERSONAL, WRITE_KEY)
    assert holds_no_secret(reason) and WRITE_KEY_MARK in reason and "86.128.12.0" in reason


class Acknowledging:
    """Kafka's stand-in: acknowledges everything and keeps the records."""

    def __init__(self) -> None:
        self.records: list[Record] = []

    async def publish(self, records: Iterable[Record]) -> None:
        self.records.extend(records)


def test_the_collector_scrubs_events_and_dead_letters_before_publishing(tmp_path) -> None:
    site = Site(id="shop", write_key=WRITE_KEY, personal_data={"phone": "drop", "username": "keep"})
    publisher = Acknowledging()
    client = TestClient(create_app(Settings(state_dir=tmp_path, sites=[site]), publisher), client=(IP, 50000))  # type: ignore[arg-type]
    identify = {"type": "identify", "userId": "u1", "traits": {"email": EMAIL, "phone": "555", "username": "jd"}, "context": {"ip": IP}}
    refused = {"type": "group", "userId": "u1", "traits": {"email": EMAIL}, "context": {"ip": IP}}
    answer = client.post("/v1/batch", content=orjson.dumps({"writeKey": WRITE_KEY, "batch": [identify, refused]}))
    assert answer.status_code == 200 and answer.json()["accepted"] == 1
    event, dead = publisher.records
    assert event.topic == topics.EVENTS.name and dead.topic == topics.DEAD_LETTER.name
    traits = orjson.loads(event.value)["traits"]
    assert traits["username"] == "jd" and "phone" not in traits and traits["email"].startswith("hmac-sha256:")
    assert all(holds_no_secret((record.key or b"").decode() + record.value.decode()) for record in publisher.records)
    assert (tmp_path / "hash.key").stat().st_mode & 0o077 == 0
