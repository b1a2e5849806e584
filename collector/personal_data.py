"""Personal values in traits and properties, kept, hashed or dropped as each site says,
before anything leaves the collector.

Names are matched as senders really write them, whatever their case and separators
(`E-Mail`, `first_name`, `firstName` and `FIRSTNAME` are one name), at any depth. A
personal name's whole value is acted on, whatever its type: an address object is hashed or
dropped whole, never searched for the parts that might be harmless. A hash is keyed with
the site's key, so equal values hash alike (a CRM's emails join on it) and without the key
no value can be guessed back from its hash.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from itertools import islice
from typing import Any

import orjson

from infra.config import PersonalAction
from infra.keys import keyed_hash
from schemas.wire import IdentifyMessage, Message, PageMessage, TrackMessage

KEEP, HASH, DROP = "keep", "hash", "drop"
# When one name is given twice in spellings that fold alike, the stricter action wins.
STRICTNESS = {KEEP: 0, HASH: 1, DROP: 2}
HASH_PREFIX = "hmac-sha256:"
# What stands in for a value nested too deeply to be read or hashed.
TOO_DEEP = "(not kept: nested too deeply)"

# Personal wherever they appear, in traits and in properties, written folded.
PERSONAL_NAMES = (
    "email", "emailaddress",
    "phone", "phonenumber", "mobilephone", "mobilenumber", "telephone",
    "firstname", "lastname", "middlename", "fullname", "givenname", "familyname", "surname", "displayname",
    "username",
    "address", "street", "streetaddress", "addressline1", "addressline2", "postalcode", "postcode", "zip", "zipcode",
    "birthday", "birthdate", "dateofbirth", "dob",
)  # fmt: skip
# Personal in traits only: in properties Segment's `name` is a page's or a product's name.
TRAIT_ONLY_NAMES = ("name",)

_SEPARATORS = str.maketrans("", "", "_-. ")
_DROPPED = object()
# Folding costs more than looking a name up: the names seen are remembered, up to a bound
# that keys made up by a hostile sender cannot push memory past.
_FOLDED: dict[str, str] = {}
MAX_REMEMBERED_NAMES = 10_000


def folded(name: str) -> str:
    """A name as it is matched: in Unicode's compatibility form (full-width letters are
    letters), case-folded, without `_`, `-`, `.` or spaces."""
    known = _FOLDED.get(name)
    if known is None:
        known = unicodedata.normalize("NFKC", name).casefold().translate(_SEPARATORS)
        if len(_FOLDED) < MAX_REMEMBERED_NAMES:
            _FOLDED[name] = known
    return known


def hash_input(value: Any) -> str:
    """What is hashed: a string trimmed and lower-cased, anything else its JSON with sorted
    keys, treated alike, so `5551234` and `" 5551234"` hash to the same value."""
    text = value if isinstance(value, str) else orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    return text.strip().lower()


def personal_hash(key: bytes, value: Any) -> str:
    """The form a hashed personal value is stored in: `hmac-sha256:` and the hex digest."""
    return HASH_PREFIX + keyed_hash(key, hash_input(value))


def acting_names(defaults: Iterable[str], own: Mapping[str, PersonalAction]) -> dict[str, str]:
    """Folded name → hash or drop: the defaults hashed, the site's own entries over them
    (kept names left out, since nothing is done to them)."""
    actions = dict.fromkeys(defaults, HASH)
    for name, action in sorted(own.items(), key=lambda item: STRICTNESS[item[1]]):
        actions[folded(name)] = action
    return {name: action for name, action in actions.items() if action != KEEP}


@dataclass(frozen=True)
class PersonalData:
    """One site's personal names and what becomes of each, compiled once for every event."""

    in_traits: Mapping[str, str]
    in_properties: Mapping[str, str]
    # The site's key, asked for only when a value is hashed (infra.keys.site_key).
    key: Callable[[], bytes]

    @classmethod
    def for_site(cls, own: Mapping[str, PersonalAction], key: Callable[[], bytes]) -> PersonalData:
        return cls(acting_names(PERSONAL_NAMES + TRAIT_ONLY_NAMES, own), acting_names(PERSONAL_NAMES, own), key)

    def hashed(self, value: Any) -> Any:
        if value is None:
            return None  # nothing personal to hide in "no value"
        try:
            return personal_hash(self.key(), value)
        except orjson.JSONEncodeError:
            return TOO_DEEP

    def traits(self, traits: dict[str, Any]) -> dict[str, Any]:
        return self.scrubbed(traits, self.in_traits)

    def properties(self, properties: dict[str, Any]) -> dict[str, Any]:
        return self.scrubbed(properties, self.in_properties)

    def scrubbed(
        self, value: Any, names: Mapping[str, str], text: Callable[[str], str] | None = None, depth: int = 255
    ) -> Any:
        """`value` with every personal name in `names` hashed or dropped at any depth, the
        same object when nothing in it is personal. `text`, when given, rewrites every other
        key and string; containers `depth` levels down are replaced by a note."""
        if isinstance(value, str):
            return text(value) if text is not None else value
        if not isinstance(value, (dict, list)):
            return value
        if depth <= 0:
            return TOO_DEEP
        if isinstance(value, list):
            items = [self.scrubbed(item, names, text, depth - 1) for item in value]
            return value if all(new is old for new, old in zip(items, value)) else items
        out: dict[str, Any] | None = None
        for index, (key, child) in enumerate(value.items()):
            action = names.get(_FOLDED.get(key) or folded(key))
            if action is not None:
                new = _DROPPED if action == DROP else self.hashed(child)
            elif text is not None or isinstance(child, (dict, list)):
                new = self.scrubbed(child, names, text, depth - 1)
            else:
                if out is not None:
                    out[key] = child
                continue
            new_key = key if text is None else text(key)
            if out is None:
                if new is child and new_key == key:
                    continue
                # The first change: what came before it is kept as it was, in its order.
                out = dict(islice(value.items(), index))
            if new is not _DROPPED:
                out[new_key] = new
        return value if out is None else out

    def applied(self, message: Message) -> Message:
        """The message with its properties and traits scrubbed, before anything is read from
        them: a reserved behaviour's fields (a click's text, an order's id) follow suit."""
        update: dict[str, Any] = {}
        if isinstance(message, (TrackMessage, PageMessage)):
            properties = self.properties(message.properties)
            if properties is not message.properties:
                update["properties"] = properties
        elif isinstance(message, IdentifyMessage):
            traits = self.traits(message.traits)
            if traits is not message.traits:
                update["traits"] = traits
        return message.model_copy(update=update) if update else message
