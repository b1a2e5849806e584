import base64
import gzip

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from collector.parsing import (
    RequestError,
    decode_body,
    parse_json_object,
    carried_messages,
    validate_message,
    validate_messages,
    write_key_from,
)

LIMIT = 1024


@given(st.binary(max_size=LIMIT))
def test_gzip_round_trip_within_the_limit(body: bytes) -> None:
    assert decode_body(gzip.compress(body), "gzip", LIMIT) == body
    assert decode_body(body, None, LIMIT) == body


@given(st.integers(min_value=LIMIT + 1, max_value=20 * LIMIT))
def test_limit_holds_before_and_after_unzipping(size: int) -> None:
    with pytest.raises(RequestError) as raw:
        decode_body(b"x" * size, "identity", LIMIT)
    assert raw.value.status == 413
    with pytest.raises(RequestError) as inflated:
        decode_body(gzip.compress(b"x" * size), "gzip", LIMIT)
    assert inflated.value.status == 413


def test_gzip_with_data_after_its_stream_is_refused() -> None:
    with pytest.raises(RequestError) as glued:
        decode_body(gzip.compress(b'{"batch": []}') + gzip.compress(b"x" * 100_000), "gzip", LIMIT)
    assert glued.value.error == "invalid_gzip" and "after the end" in glued.value.detail


def test_bad_gzip_and_unknown_encoding() -> None:
    with pytest.raises(RequestError) as not_gzip:
        decode_body(b"hello", "gzip", LIMIT)
    assert (not_gzip.value.status, not_gzip.value.error) == (400, "invalid_gzip")
    with pytest.raises(RequestError) as truncated:
        decode_body(gzip.compress(b"a" * 200)[:-10], "gzip", LIMIT)
    assert truncated.value.error == "invalid_gzip"
    with pytest.raises(RequestError) as unknown:
        decode_body(b"x", "deflate", LIMIT)
    assert unknown.value.status == 415


@pytest.mark.parametrize(("body", "error"), [(b"", "invalid_json"), (b"{", "invalid_json"), (b"[]", "invalid_shape"), (b"3", "invalid_shape")])
def test_json_object_required(body: bytes, error: str) -> None:
    with pytest.raises(RequestError) as caught:
        parse_json_object(body)
    assert (caught.value.status, caught.value.error) == (400, error)


def basic(user: str, password: str = "") -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_write_key_from_basic_user_else_body() -> None:
    assert write_key_from(basic("k1"), {"writeKey": "k2"}) == "k1"
    assert write_key_from(None, {"writeKey": "k2"}) == "k2"
    assert write_key_from(basic(""), {"writeKey": "k2"}) == "k2"
    assert write_key_from("Bearer abc", {}) is None
    assert write_key_from(None, {"writeKey": 7}) is None
    with pytest.raises(RequestError):
        write_key_from("Basic !!!", {})


def merged_messages(endpoint: str, payload: dict, max_messages: int = 100) -> list:
    carried = carried_messages(endpoint, payload, max_messages)
    return [carried.merged(index) for index in range(len(carried.messages))]


def test_single_endpoints_imply_the_type_and_batches_share_context() -> None:
    assert merged_messages("track", {"event": "E"})[0]["type"] == "track"
    shared = {"batch": [{"type": "page", "context": {"locale": "fr"}}, {"type": "page"}], "context": {"ip": "1.2.3.4", "locale": "en"}}
    first, second = merged_messages("batch", shared)
    assert first["context"] == {"ip": "1.2.3.4", "locale": "fr"}
    assert second["context"] == {"ip": "1.2.3.4", "locale": "en"}
    stamped = merged_messages("batch", {"batch": [{"type": "page"}, {"type": "page", "sentAt": "own"}], "sentAt": "batch"})
    assert [m["sentAt"] for m in stamped] == ["batch", "own"]
    with pytest.raises(RequestError) as caught:
        merged_messages("batch", {"batch": {}})
    assert caught.value.field == "batch"


def test_a_batch_over_the_message_limit_is_refused_whole() -> None:
    assert len(merged_messages("batch", {"batch": [{"type": "page"}] * 3}, max_messages=3)) == 3
    with pytest.raises(RequestError) as caught:
        merged_messages("batch", {"batch": [{"type": "page"}] * 4}, max_messages=3)
    assert caught.value.status == 413 and caught.value.error == "too_many_messages" and "4 messages" in caught.value.detail


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ({"type": "track", "event": "E"}, "anonymousId or userId is required"),
        ({"type": "track", "anonymousId": "a"}, "event: Field required"),
        ({"type": "alias", "anonymousId": "a"}, "type: must be one of"),
        ({"type": "page", "anonymousId": "a", "timestamp": "yesterday"}, "timestamp:"),
        ({"type": "identify", "userId": "u", "traits": []}, "traits:"),
        ("not an object", "must be a JSON object"),
    ],
)
def test_invalid_messages_name_the_field(message: object, reason: str) -> None:
    with pytest.raises(ValueError) as caught:
        validate_message(message)
    assert reason in str(caught.value)


def test_numeric_ids_are_accepted_as_text() -> None:
    message = validate_message({"type": "identify", "userId": 42})
    assert message.user_id == "42"


valid = st.builds(lambda n: {"type": "track", "event": f"E{n}", "anonymousId": f"a{n}"}, st.integers(0, 1000))
invalid = st.sampled_from([{"type": "track"}, {"type": "nope", "anonymousId": "a"}, 5, {"type": "page"}])


@given(st.lists(st.one_of(valid, invalid), max_size=40))
def test_every_message_is_either_accepted_or_rejected_once(batch: list) -> None:
    accepted, rejected = validate_messages(enumerate(batch))
    indices = [i for i, _ in accepted] + [r.index for r in rejected]
    assert sorted(indices) == list(range(len(batch)))
    assert all(isinstance(batch[i], dict) and "anonymousId" in batch[i] for i, _ in accepted)
    assert all(r.raw is batch[r.index] and r.reason for r in rejected)


def test_request_error_body_names_field() -> None:
    body = RequestError(400, "invalid_shape", "bad", field="batch").body()
    assert orjson.loads(orjson.dumps(body)) == {"success": False, "error": "invalid_shape", "detail": "bad", "field": "batch"}
