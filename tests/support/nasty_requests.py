"""Hand-made hostile requests to the collector, by category, each with the answers it may get.

These are the requests a schema-driven generator does not write: JSON nested deeper than
JSON libraries will write (so it is written here by hand), bodies that lie about their
encoding, compressed bodies that inflate far past the limit, bytes that are not UTF-8,
literals JSON does not have, and credentials that are not credentials.
"""

from __future__ import annotations

import base64
import gzip
import random
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from itertools import count

import orjson

from tests.support.raw_http import RawRequest

WRITE_KEY = "demo_key"
BODY_LIMIT = 512 * 1024  # the collector's default max_body_bytes
MESSAGE_LIMIT = 2500  # its default max_messages
STRING_LIMIT = 8192  # its default max_string_chars


def basic(user: str, password: str = "") -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


GOOD_AUTH = {"Authorization": basic(WRITE_KEY), "Content-Type": "application/json"}


@dataclass(frozen=True)
class Attack:
    """A request, the category it belongs to, and the statuses a sound collector may answer."""

    category: str
    request: RawRequest
    expected: frozenset[int]


def post(category: str, path: str, body: bytes, expected: set[int] | frozenset[int], **headers: str) -> Attack:
    merged = {**GOOD_AUTH, **{name.replace("_", "-").title(): value for name, value in headers.items()}}
    return Attack(category, RawRequest("POST", path, merged, body), frozenset(expected))


_serial = count()


def valid_message(kind: str = "track") -> dict:
    """A message the collector stores: what sits beside a nasty one in a batch."""
    n = next(_serial)
    base = {"type": kind, "anonymousId": f"nasty-{n % 97}", "messageId": f"nasty-{n}"}
    return {**base, "event": "Nasty Neighbour"} if kind == "track" else base


def track_with(properties_json: bytes) -> bytes:
    """A track call whose properties are the given JSON text, written as is."""
    return b'{"type":"track","event":"E","anonymousId":"deep","properties":{"x":%s}}' % properties_json


def batch_of(*messages_json: bytes, rest: bytes = b"") -> bytes:
    return b'{"batch":[' + b",".join(messages_json) + b"]" + rest + b"}"


# --- the categories, each a generator of attacks --------------------------------------------


def deep_nesting(rng: random.Random) -> Iterator[Attack]:
    for depth in (100, 1_000, 10_000, rng.randint(33, 20_000)):
        arrays = b"[" * depth + b"]" * depth
        objects = b'{"a":' * depth + b"1" + b"}" * depth
        for nested in (arrays, objects):
            yield post("deep nesting", "/v1/track", track_with(nested), {400})
            neighbour = orjson.dumps(valid_message())
            yield post("deep nesting", "/v1/batch", batch_of(neighbour, track_with(nested)), {200, 400})
            # a context that is not an object is not merged; one too deep refuses every message
            context_answer = {200, 400} if nested is arrays else {400}
            yield post("deep nesting", "/v1/batch", batch_of(neighbour, rest=b',"context":' + nested), context_answer)
            yield post("deep nesting", "/v1/batch", b'{"batch":' + arrays + b"}", {400})


def huge_strings(rng: random.Random) -> Iterator[Attack]:
    size = rng.choice([201, 8_193, 40_000, 400_000])
    long = "x" * size
    for field in ("event", "anonymousId", "userId", "messageId"):  # each at most 200 characters
        yield post("huge strings", "/v1/track", orjson.dumps({**valid_message(), field: long}), {400})
    over_string_limit = {400} if size > STRING_LIMIT else {200}
    yield post("huge strings", "/v1/track", orjson.dumps({**valid_message(), "properties": {long: 1}}), over_string_limit)
    neighbour = valid_message()
    yield post("huge strings", "/v1/batch", orjson.dumps({"batch": [neighbour, {**valid_message(), "event": long}]}), {200})
    shared = orjson.dumps({"batch": [valid_message()], "context": {"page": {"path": long}}})
    yield post("huge strings", "/v1/batch", shared, over_string_limit if size < BODY_LIMIT else {413})
    yield post("huge strings", "/v1/batch", b'{"batch":[],"pad":"' + b"p" * (BODY_LIMIT + 1) + b'"}', {413})


def many_messages(rng: random.Random) -> Iterator[Attack]:
    tiny = orjson.dumps({"type": "page", "anonymousId": "m"})
    yield post("many messages", "/v1/batch", batch_of(*[b"{}"] * rng.randint(MESSAGE_LIMIT + 1, 150_000)), {413})
    yield post("many messages", "/v1/batch", batch_of(*[tiny] * rng.randint(20_000, 40_000)), {413})  # over the body limit too
    # within the count but each message carrying the batch context: too much output
    context = orjson.dumps({"page": {"title": "t" * 2_000}})
    yield post("many messages", "/v1/batch", batch_of(*[tiny] * MESSAGE_LIMIT, rest=b',"context":' + context), {413})
    # within every bound, and every message invalid: each one refused alone
    invalid = orjson.dumps({"type": "track", "anonymousId": "m"})
    yield post("many messages", "/v1/batch", batch_of(*[invalid] * rng.randint(500, MESSAGE_LIMIT)), {400})


WRONG_VALUES = (b"null", b"true", b"0", b"-1.5", b'""', b'"x"', b"[]", b"{}", b"[null]", b'{"":{}}')
MESSAGE_FIELDS = ("type", "event", "anonymousId", "userId", "messageId", "timestamp", "sentAt", "properties", "traits", "context")
CONTEXT_FIELDS = ("page", "userAgent", "ip", "campaign", "screen", "locale", "library")


def wrong_types(rng: random.Random) -> Iterator[Attack]:
    value = rng.choice(WRONG_VALUES)
    yield post("wrong types", "/v1/batch", b'{"batch":' + value + b"}", {400} if value != b"[]" else {200})
    if value != b"{}":
        yield post("wrong types", "/v1/track", value, {400})
    for fields in (MESSAGE_FIELDS, CONTEXT_FIELDS):
        message = valid_message()
        field = rng.choice(fields)
        text = orjson.dumps(message)[:-1]
        if fields is CONTEXT_FIELDS:
            text += b',"context":{"%s":%s}}' % (field.encode(), value)
        else:
            text += b',"%s":%s}' % (field.encode(), value)
        # Some wrong types are right after all (a number where a string goes is taken as text).
        yield post("wrong types", "/v1/track", text, {200, 400})
        yield post("wrong types", "/v1/batch", batch_of(orjson.dumps(valid_message()), text), {200})
    yield post("wrong types", "/v1/batch", b'{"batch":[],"context":' + value + b',"sentAt":' + value + b"}", {200})


def bad_gzip(rng: random.Random) -> Iterator[Attack]:
    body = orjson.dumps({"batch": [valid_message()]})
    packed = gzip.compress(body)
    yield post("bad gzip", "/v1/batch", rng.randbytes(rng.randint(0, 512)), {400}, content_encoding="gzip")
    yield post("bad gzip", "/v1/batch", packed[: rng.randint(1, len(packed) - 1)], {400}, content_encoding="gzip")
    yield post("bad gzip", "/v1/batch", zlib.compress(body), {400}, content_encoding="gzip")
    yield post("bad gzip", "/v1/batch", gzip.compress(packed), {400}, content_encoding="gzip")
    yield post("bad gzip", "/v1/batch", packed[:10] + bytes([packed[10] ^ 0xFF]) + packed[11:], {400}, content_encoding="gzip")
    yield post("bad gzip", "/v1/batch", gzip.compress(b"\xff\xfe not json"), {400}, content_encoding="gzip")


@cache
def bombs() -> list[bytes]:
    """Compressed once: kilobytes each, megabytes when inflated."""
    return [
        gzip.compress(b" " * (64 << 20), 9),
        gzip.compress(b'{"batch":[' + b'{"type":"page","anonymousId":"b"},' * 200_000 + b"]}", 9),
        gzip.compress(b'{"batch":[],"x":"' + b"0" * (8 << 20) + b'"}', 9),
    ]


def gzip_bombs(rng: random.Random) -> Iterator[Attack]:
    bomb = rng.choice(bombs())
    yield post("gzip bombs", "/v1/batch", bomb, {413}, content_encoding="gzip")
    # a bomb that is also a second gzip member glued after a valid one: refused, never read
    yield post("gzip bombs", "/v1/batch", gzip.compress(b'{"batch":[]}') + bomb, {400}, content_encoding="gzip")


ABSURD_TIMES = (
    b'"0000-01-01T00:00:00Z"', b'"0001-01-01T00:00:00Z"', b'"9999-12-31T23:59:59Z"', b'"9999-12-31T23:59:59-23:59"',
    b'"-0001-01-01T00:00:00Z"', b'"1969-12-31T23:59:59Z"', b'"yesterday"', b'""', b'"2026-02-30T00:00:00Z"',
    b'"2026-13-01T00:00:00Z"', b"-1", b"-62135596800", b"253402300800", b"1e18", b"9223372036854775807",
    b'"1700000000"', b'"T"', b"true", b"[]",
)


def absurd_timestamps(rng: random.Random) -> Iterator[Attack]:
    timestamp, sent_at = rng.choice(ABSURD_TIMES), rng.choice(ABSURD_TIMES)
    message = orjson.dumps(valid_message())[:-1]
    for fields in ((b"timestamp", timestamp), (b"sentAt", sent_at), (b"originalTimestamp", timestamp)):
        yield post("absurd timestamps", "/v1/track", message + b',"%s":%s}' % fields, {200, 400})
    both = message + b',"timestamp":%s,"sentAt":%s}' % (timestamp, sent_at)
    yield post("absurd timestamps", "/v1/track", both, {200, 400})
    batch_sent_at = orjson.dumps({"batch": [valid_message()]})[:-1] + b',"sentAt":' + sent_at + b"}"
    yield post("absurd timestamps", "/v1/batch", batch_sent_at, {200, 400})
    # An event stamped after its batch was sent is placed at receipt (Segment's convention);
    # one that waited for millennia on the device falls before the horizon.
    first, last = b'"0001-01-01T00:00:00Z"', b'"9999-12-31T23:59:59Z"'
    for moment, sent, expected in ((first, first, 200), (last, last, 200), (last, first, 200), (first, last, 400)):
        yield post("absurd timestamps", "/v1/track", message + b',"timestamp":%s,"sentAt":%s}' % (moment, sent), {expected})


def invalid_utf8(rng: random.Random) -> Iterator[Attack]:
    bad = rng.choice([b"\xff", b"\xc0\xaf", b"\xe0\x80\x80", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\x80", b"\xc3"])
    message = b'{"type":"track","event":"E%s","anonymousId":"u"}' % bad
    yield post("invalid UTF-8", "/v1/track", message, {400})
    yield post("invalid UTF-8", "/v1/batch", batch_of(orjson.dumps(valid_message()), message), {400})
    yield post("invalid UTF-8", "/v1/batch", b"\xef\xbb\xbf" + batch_of(orjson.dumps(valid_message())), {400})
    yield post("invalid UTF-8", "/v1/batch", orjson.dumps({"batch": []}), {400, 401}, authorization="Basic " + base64.b64encode(bad + b":").decode())
    headers = {"user_agent": bad.decode("latin-1"), "origin": "http://" + bad.decode("latin-1")}
    yield post("invalid UTF-8", "/v1/batch", orjson.dumps({"batch": [valid_message()]}), {200, 400, 403}, **headers)


def lone_surrogates(rng: random.Random) -> Iterator[Attack]:
    escape = rng.choice([b"\\ud800", b"\\udfff", b"\\udc00\\ud800", b"\\ud83d"])
    for field in (b"event", b"anonymousId", b"messageId"):
        yield post("lone surrogates", "/v1/track", b'{"type":"track","event":"E","anonymousId":"u","%s":"x%sy"}' % (field, escape), {400})
    yield post("lone surrogates", "/v1/track", b'{"type":"track","event":"E","anonymousId":"u","properties":{"%s":1}}' % escape, {400})


def duplicate_keys(rng: random.Random) -> Iterator[Attack]:
    neighbour = orjson.dumps(valid_message())
    yield post("duplicate keys", "/v1/batch", b'{"batch":[' + neighbour + b'],"batch":"x"}', {400})
    yield post("duplicate keys", "/v1/batch", b'{"batch":"x","batch":[' + neighbour + b"]}", {200})
    yield post("duplicate keys", "/v1/track", neighbour[:-1] + b',"type":"identify","type":"bogus"}', {400})
    yield post("duplicate keys", "/v1/track", neighbour[:-1] + b',"anonymousId":{},"anonymousId":"ok"}', {200})
    many = b",".join(b'"k":%d' % n for n in range(rng.randint(100, 20_000)))
    yield post("duplicate keys", "/v1/track", b'{"type":"track","event":"E","anonymousId":"u","properties":{' + many + b"}}", {200})


def nan_and_infinity(rng: random.Random) -> Iterator[Attack]:
    literal = rng.choice([b"NaN", b"Infinity", b"-Infinity", b"nan", b"inf", b"1e400", b"-1e400", b"undefined"])
    yield post("NaN and Infinity", "/v1/track", track_with(literal), {400})
    properties = b'{"type":"track","event":"Page Scrolled","anonymousId":"u","properties":{"depth":%s}}' % literal
    yield post("NaN and Infinity", "/v1/track", properties, {400})


def huge_integers(rng: random.Random) -> Iterator[Attack]:
    digits = str(rng.randint(10**19, 10**25)).encode() + b"0" * rng.choice([0, 10, 400, 5_000])
    for number in (digits, b"-" + digits, b"18446744073709551615", b"-9223372036854775809"):
        yield post("huge integers", "/v1/track", track_with(number), {200, 400})
        screen = b'{"type":"page","anonymousId":"u","context":{"screen":{"width":%s,"height":%s}}}' % (number, number)
        yield post("huge integers", "/v1/page", screen, {200, 400})
        click = b'{"type":"track","event":"Element Clicked","anonymousId":"u","properties":{"selector":"a","x":%s,"y":1}}' % number
        yield post("huge integers", "/v1/track", click, {200, 400})
        yield post("huge integers", "/v1/track", b'{"type":"track","event":%s,"anonymousId":%s}' % (number, number), {200, 400})


def empty_bodies(rng: random.Random) -> Iterator[Attack]:
    for path in ("/v1/batch", "/v1/track", "/v1/page", "/v1/identify"):
        yield post("empty bodies", path, b"", {400})
        yield post("empty bodies", path, rng.choice([b" ", b"\n", b"\x00", b"{}", b"null"]), {400})
        yield post("empty bodies", path, b"", {400}, content_encoding="gzip")
        yield post("empty bodies", path, gzip.compress(b""), {400}, content_encoding="gzip")


def content_types_and_encodings(rng: random.Random) -> Iterator[Attack]:
    body = orjson.dumps({"batch": [valid_message()]})
    for content_type in ("application/xml", "multipart/form-data; boundary=x", "text/plain;charset=UTF-7", "a" * 1000):
        # The collector reads JSON whatever the content type says: browsers send text/plain.
        yield post("content types and encodings", "/v1/batch", body, {200}, content_type=content_type)
    # A NUL byte in a header is not HTTP: the server refuses it before the collector sees it.
    yield post("content types and encodings", "/v1/batch", body, {400}, content_type="\x00")
    for encoding in ("br", "deflate", "compress", "gzip, gzip", "zstd", "x-gzip", "identity;q=0", "\xff", "*"):
        yield post("content types and encodings", "/v1/batch", body, {415}, content_encoding=encoding)
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    yield post("content types and encodings", "/v1/batch", chunked, {200}, transfer_encoding="chunked")
    flood = b"".join(b"10000\r\n" + b" " * 0x10000 + b"\r\n" for _ in range(9)) + b"0\r\n\r\n"
    yield post("content types and encodings", "/v1/batch", flood, {413}, transfer_encoding="chunked")
    yield post("content types and encodings", "/v1/batch", body, {413}, content_length=str(rng.randint(BODY_LIMIT + 1, 2**62)), connection="close")


def bad_basic_auth(rng: random.Random) -> Iterator[Attack]:
    body = orjson.dumps({"batch": [valid_message()]})
    for header in ("Basic !!!", "Basic ZGVtb19rZXk", "Basic =" * 3, "basic " + "%%%", "Basic " + "A" * rng.choice([1, 2, 3, 5])):
        yield post("bad Basic auth", "/v1/batch", body, {400}, authorization=header)
    # base64 of bytes that are no write key: "AAAA" is three NUL bytes
    yield post("bad Basic auth", "/v1/batch", body, {401}, authorization="Basic " + "A" * rng.choice([4, 8, 400]))
    for header in ("Bearer demo_key", "Basic", "Basic ", basic("", WRITE_KEY), "Digest x", "x" * 8000):
        yield post("bad Basic auth", "/v1/batch", body, {401}, authorization=header)


def unknown_write_keys(rng: random.Random) -> Iterator[Attack]:
    key = rng.choice(["nobody", "DEMO_KEY", "demo_key ", "demo_key\x00", "\U0001f600", "k" * 5000, rng.randbytes(8).hex()])
    body = orjson.dumps({"batch": [valid_message()]})
    yield post("unknown write keys", "/v1/batch", body, {401}, authorization=basic(key))
    anonymous = {"Content-Type": "application/json"}
    in_body = orjson.dumps({"writeKey": key, "batch": [valid_message()]})
    yield Attack("unknown write keys", RawRequest("POST", "/v1/batch", anonymous, in_body), frozenset({401}))
    for wrong in (b"1", b"null", b"[]", b'{"k":"demo_key"}'):
        body_key = b'{"writeKey":%s,"batch":[]}' % wrong
        yield Attack("unknown write keys", RawRequest("POST", "/v1/batch", anonymous, body_key), frozenset({401}))


def wrong_paths_and_methods(rng: random.Random) -> Iterator[Attack]:
    for path in ("/v1/alias", "/v1/", "/v2/batch", "/v1/" + "a" * 4000, "/v1/%00", "/v1/batch?batch=1"):
        yield post("wrong paths and methods", path, b"{}", {400} if path.startswith("/v1/batch?") else {404})
    yield post("wrong paths and methods", "/v1/batch/", b"{}", {307})  # to /v1/batch
    yield post("wrong paths and methods", "/v1/../healthz", b"{}", {404, 405})
    for method in ("PUT", "DELETE", "PATCH"):
        yield Attack("wrong paths and methods", RawRequest(method, "/v1/batch", GOOD_AUTH, b"{}"), frozenset({405}))
    yield Attack("wrong paths and methods", RawRequest("GET", "/v1/batch", GOOD_AUTH), frozenset({405}))


CATEGORIES: dict[str, Callable[[random.Random], Iterator[Attack]]] = {
    "deep nesting": deep_nesting,
    "huge strings": huge_strings,
    "many messages": many_messages,
    "wrong types": wrong_types,
    "bad gzip": bad_gzip,
    "gzip bombs": gzip_bombs,
    "absurd timestamps": absurd_timestamps,
    "invalid UTF-8": invalid_utf8,
    "lone surrogates": lone_surrogates,
    "duplicate keys": duplicate_keys,
    "NaN and Infinity": nan_and_infinity,
    "huge integers": huge_integers,
    "empty bodies": empty_bodies,
    "content types and encodings": content_types_and_encodings,
    "bad Basic auth": bad_basic_auth,
    "unknown write keys": unknown_write_keys,
    "wrong paths and methods": wrong_paths_and_methods,
}
# The costly ones (bodies near the limit, inflating bombs, thousands of messages) are sent
# fewer times than the rest.
ROUNDS = {"huge strings": 40, "many messages": 10, "gzip bombs": 100, "deep nesting": 15}


def nasty_attacks(seed: int, rounds: int) -> Iterator[Attack]:
    """Every category, round after round (each round drawing new sizes and values), the
    costly ones capped; categories interleaved so that each meets the others in flight."""
    rng = random.Random(seed)
    for round_number in range(rounds):
        for name, category in CATEGORIES.items():
            if round_number < ROUNDS.get(name, rounds):
                yield from category(rng)
