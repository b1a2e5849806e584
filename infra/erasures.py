"""The people no stage may bring back: every erasure record (schemas.erasures) read so far,
and whether a record's ids are one of theirs. Pure: the processors and the sink feed it the
erasures topic (infra.kafka.erasure_reader) and ask it about each record they would keep.

Only keyed hashes are held, never ids: a stage hashes the ids it sees with the site's key
and looks the hashes up, so the topic and this memory name nobody.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Callable, Iterable

import orjson
from pydantic import ValidationError

from infra.keys import keyed_hash
from schemas.erasures import Erasure

HASH_PATTERN = re.compile(r"[0-9a-f]{64}")
# A JSON string in text that may be cut short or not JSON at all (a dead letter's raw message).
QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')
# The fields the collector reads a message's ids from. It takes an id sent as a JSON number
# as the number's text, which a dead letter keeps as sent, unquoted.
ID_FIELDS = ("anonymousId", "userId", "anonymous_id", "user_id")
NUMBER = r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?"
NUMERIC_ID = re.compile(rf'"(?:{"|".join(ID_FIELDS)})":({NUMBER})(?=[,}}])')


class MalformedErasure(ValueError):
    """A record of the erasures topic that is not an erasure: skipped, counted, never fatal."""


def parsed(key: bytes | None, value: bytes) -> Erasure:
    """The erasure a record holds, or MalformedErasure saying why it holds none."""
    if not key:
        raise MalformedErasure("a record without a key")
    try:
        erasure = Erasure.model_validate_json(value)
    except ValidationError as exc:
        raise MalformedErasure(f"not an erasure: {exc.error_count()} errors, the first: {exc.errors()[0]['msg']}") from None
    if not all(HASH_PATTERN.fullmatch(id_hash) for id_hash in erasure.id_hashes):
        raise MalformedErasure("an id hash that is not 64 lowercase hex digits (HMAC-SHA256)")
    return erasure


class Forgotten:
    """Every erasure of the topic as compaction keeps it (the latest record of each key; a
    tombstone withdraws one), as the id hashes of each site, each site's key made once."""

    def __init__(self, site_key: Callable[[str], bytes]):
        self._site_key = site_key
        self._keys: dict[str, bytes] = {}
        self._records: dict[bytes, tuple[str, frozenset[str]]] = {}
        # Each site's hashes, with how many records name each (two requests may share one).
        self._hashes: dict[str, Counter[str]] = {}

    def __bool__(self) -> bool:
        return bool(self._hashes)

    def __len__(self) -> int:
        """How many id hashes are held, all sites together."""
        return sum(len(hashes) for hashes in self._hashes.values())

    @property
    def erasures(self) -> int:
        return len(self._records)

    def sites(self) -> set[str]:
        return set(self._hashes)

    def apply(self, key: bytes | None, value: bytes | None) -> Erasure | None:
        """One record of the topic: the erasure it adds, or None for a tombstone (the
        erasure of that key withdrawn). A malformed record raises MalformedErasure and
        changes nothing."""
        if value is None:
            if key:
                self._withdraw(key)
            return None
        erasure = parsed(key, value)
        assert key is not None  # parsed refuses a record without one
        self._withdraw(key)
        hashes = frozenset(erasure.id_hashes)
        self._records[key] = (erasure.site_id, hashes)
        self._hashes.setdefault(erasure.site_id, Counter()).update(hashes)
        return erasure

    def _withdraw(self, key: bytes) -> None:
        known = self._records.pop(key, None)
        if known is None:
            return
        site_id, hashes = known
        held = self._hashes[site_id]
        held.subtract(hashes)
        for id_hash in hashes:
            if held[id_hash] <= 0:
                del held[id_hash]
        if not held:
            del self._hashes[site_id]

    def holds(self, site_id: str) -> bool:
        """Whether anyone of the site was forgotten: the one question asked of every record."""
        return site_id in self._hashes

    def names(self, site_id: str, ids: Iterable[object]) -> bool:
        """Whether any of `ids` (None, empty and non-text ones are passed over) is the id of
        someone forgotten on the site."""
        held = self._hashes.get(site_id)
        if not held:
            return False
        key = self._key(site_id)
        return any(isinstance(id_, str) and id_ and keyed_hash(key, id_) in held for id_ in ids)

    def names_in_text(self, site_id: str, text: str) -> bool:
        """Whether any JSON string in `text`, or a number under an id field, is the id of
        someone forgotten on the site: how a dead letter's raw message is matched, which
        may be cut short, not JSON, or hold an id under any field."""
        if not self.holds(site_id):
            return False
        tokens = itertools.chain((_unquoted(token) for token in QUOTED.findall(text)), NUMERIC_ID.findall(text))
        return self.names(site_id, tokens)

    def _key(self, site_id: str) -> bytes:
        key = self._keys.get(site_id)
        if key is None:
            key = self._keys[site_id] = self._site_key(site_id)
        return key


def _unquoted(token: str) -> str:
    """A JSON string's content with its escapes undone, as the id was sent."""
    if "\\" not in token:
        return token
    try:
        text = orjson.loads(f'"{token}"')
    except orjson.JSONDecodeError:
        return token
    return text if isinstance(text, str) else token
