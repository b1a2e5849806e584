"""Requests generated from the collector's OpenAPI description, many more than a generator
can write in the time a test has.

Schemathesis writes a pool of cases for every operation, both kinds: ones the schema allows
and ones it does not (wrong types, missing fields, values out of range). Each case is sent
as written; then its parts (messages, contexts, every value found inside them) are
recombined at random into new requests: batches of messages from different cases, messages
with one field given a value generated for another place (so that every field meets every
kind of value), bodies with a few bytes flipped, dropped or repeated, and bodies sent
compressed or with the wrong credentials or encoding.
"""

from __future__ import annotations

import gzip
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import orjson
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as fixed_seed
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core import NotSet

from tests.support.nasty_requests import GOOD_AUTH, Attack, basic
from tests.support.raw_http import RawRequest

# Whatever a generated request gets, only a 5xx is wrong: the schema cannot say which
# generated values the collector refuses.
NOT_A_SERVER_ERROR = frozenset(range(100, 500))
MESSAGE_PATHS = ("/v1/track", "/v1/page", "/v1/identify")
# Cases written per operation: (allowed by the schema, not allowed). Batches are costly to
# write, single messages cheaper; operations without a body have little to vary.
POOL_SIZES = {"/v1/batch": (60, 30), "/v1/track": (300, 100), "/v1/page": (300, 100), "/v1/identify": (300, 100)}
OTHER_OPERATIONS = 30
MAX_VALUES = 20_000


@dataclass(frozen=True)
class Case:
    """One generated case, reduced to what goes on the wire (picklable, to come from another process)."""

    operation: str
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    has_body: bool


def _header_value(value: Any) -> str:
    text = str(value).encode("utf-8", "surrogatepass").decode("latin-1")
    return "".join(char for char in text if char not in "\r\n\x00")


def _case(case: Any) -> Case:
    path = case.formatted_path + (f"?{urlencode(case.query, doseq=True)}" if case.query else "")
    headers = {str(name): _header_value(value) for name, value in (case.headers or {}).items()}
    has_body = not isinstance(case.body, NotSet)
    return Case(f"{case.method.upper()} {case.path}", case.method.upper(), path, headers, case.body if has_body else None, has_body)


def generate_cases(document: dict[str, Any], seed: int) -> list[Case]:
    """The pool, written by schemathesis (through Hypothesis) from the description."""
    schema = schemathesis.openapi.from_dict(document)
    cases: list[Case] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        posted = operation.method.upper() == "POST"
        allowed, refused = POOL_SIZES[operation.path] if posted else (OTHER_OPERATIONS, 0)
        for mode, examples in ((GenerationMode.POSITIVE, allowed), (GenerationMode.NEGATIVE, refused)):
            if not examples:
                continue

            @fixed_seed(seed)
            @settings(max_examples=examples, database=None, phases=[Phase.generate], deadline=None, suppress_health_check=list(HealthCheck))
            @given(operation.as_strategy(generation_mode=mode))
            def collect(case: Any) -> None:
                cases.append(_case(case))

            try:
                collect()
            except Unsatisfiable:
                pass  # an operation with nothing to vary in this mode
    return cases


def encode(body: Any) -> bytes:
    """JSON as a careless client writes it: integers of any size, NaN and Infinity included."""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8", "surrogatepass")
    try:
        return orjson.dumps(body, default=_raw_text)
    except (orjson.JSONEncodeError, TypeError):
        return json.dumps(body, default=_raw_text).encode("utf-8", "surrogatepass")


def _raw_text(value: Any) -> str:
    """Raw bytes a negative case put inside a structure, as the text they spell in Latin-1."""
    if isinstance(value, bytes):
        return value.decode("latin-1")
    raise TypeError(type(value).__name__)


def _values_within(value: Any, found: list[Any]) -> None:
    pending = [value]
    while pending and len(found) < MAX_VALUES:
        item = pending.pop()
        found.append(item)
        if isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)


class Recombiner:
    """New requests made from the pool's parts."""

    def __init__(self, cases: list[Case], rng: random.Random):
        self.cases = [case for case in cases if case.method == "POST"]
        self.rng = rng
        self.messages: list[Any] = []
        self.contexts: list[Any] = [None]
        self.values: list[Any] = [None]
        for case in self.cases:
            if case.path == "/v1/batch" and isinstance(case.body, dict):
                items = case.body.get("batch")
                self.messages.extend(items if isinstance(items, list) else [items])
            else:
                self.messages.append(case.body)
            if isinstance(case.body, dict):
                self.contexts.append(case.body.get("context"))
            _values_within(case.body, self.values)
        self.kinds = [self.batch, self.swapped, self.swapped, self.mutated, self.mutated, self.other_transport]

    def next(self) -> Attack:
        return self.rng.choice(self.kinds)()

    def attack(self, category: str, path: str, body: Any, headers: dict[str, str] | None = None) -> Attack:
        merged = {**GOOD_AUTH, **(headers or {})}
        return Attack(category, RawRequest("POST", path, merged, encode(body)), NOT_A_SERVER_ERROR)

    def batch(self) -> Attack:
        """A few messages from different cases, sometimes with another case's context and sentAt."""
        body: dict[str, Any] = {"batch": self.rng.choices(self.messages, k=self.rng.randint(1, 5))}
        if self.rng.random() < 0.3:
            body["context"] = self.rng.choice(self.contexts)
        if self.rng.random() < 0.2:
            body["sentAt"] = self.rng.choice(self.values)
        return self.attack("generated: recombined batch", "/v1/batch", body)

    def swapped(self) -> Attack:
        """A message with one field, at the top or within a part, given another place's value."""
        message = self.rng.choice(self.messages)
        message = dict(message) if isinstance(message, dict) else {"type": "track", "anonymousId": "g", "event": "G"}
        value = self.rng.choice(self.values)
        inner = [key for key, part in message.items() if isinstance(part, dict) and part]
        if inner and self.rng.random() < 0.5:
            key = self.rng.choice(inner)
            part = dict(message[key])
            part[self.rng.choice(list(part))] = value
            message[key] = part
        else:
            message[self.rng.choice([*message, "type", "event", "timestamp", "context"])] = value
        if self.rng.random() < 0.2:
            return self.attack("generated: swapped field", "/v1/batch", {"batch": [message]})
        return self.attack("generated: swapped field", self.rng.choice(MESSAGE_PATHS), message)

    def mutated(self) -> Attack:
        """A case's body with a few bytes flipped, dropped, repeated or cut off."""
        case = self.rng.choice(self.cases)
        body = bytearray(encode(case.body))
        for _ in range(self.rng.randint(1, 3)):
            if not body:
                break
            at = self.rng.randrange(len(body))
            action = self.rng.randrange(4)
            if action == 0:
                body[at] = self.rng.choice(b'{}[]",:\\0 \xff\x00')
            elif action == 1:
                del body[at : at + self.rng.randint(1, 8)]
            elif action == 2:
                body[at:at] = body[at : at + self.rng.randint(1, 64)]
            else:
                del body[at:]
        return Attack("generated: mutated bytes", RawRequest("POST", case.path, GOOD_AUTH, bytes(body)), NOT_A_SERVER_ERROR)

    def other_transport(self) -> Attack:
        """A case's body compressed, or sent with the wrong credentials or encoding."""
        case = self.rng.choice(self.cases)
        body = encode(case.body)
        choice = self.rng.randrange(4)
        if choice == 0:
            return self.attack("generated: other transport", case.path, gzip.compress(body, 1), {"Content-Encoding": "gzip"})
        if choice == 1:
            return self.attack("generated: other transport", case.path, body, {"Content-Encoding": "gzip"})
        if choice == 2:
            return self.attack("generated: other transport", case.path, body, {"Authorization": basic("nobody")})
        return Attack("generated: other transport", RawRequest("POST", case.path, {"Content-Type": "text/plain"}, body), NOT_A_SERVER_ERROR)

    def as_written(self, case: Case) -> Attack:
        headers = {**GOOD_AUTH, **case.headers} if case.method == "POST" else case.headers
        body = encode(case.body) if case.has_body else b""
        return Attack(f"generated: {case.operation}", RawRequest(case.method, case.path, headers, body), NOT_A_SERVER_ERROR)


def generated_attacks(cases: list[Case], seed: int, total: int) -> Iterator[Attack]:
    """Every case as written, then recombinations until `total` requests."""
    recombiner = Recombiner(cases, random.Random(seed))
    written = cases[:total]
    yield from (recombiner.as_written(case) for case in written)
    for _ in range(total - len(written)):
        yield recombiner.next()
