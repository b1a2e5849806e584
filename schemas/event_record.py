"""A record of the events topic, checked against the Event's field types.

The collector is the one producer of footfall.events and writes only Events, but a topic
can also be written by a careless tool, an older collector or a bug; a stage that reads it
must set such a record aside with its reason rather than die on it. Validating every record
with pydantic would cost the processors more than their own work, so the check is a table
of the JSON types each field may hold, built once from the Event model.
"""

from __future__ import annotations

import types
from datetime import datetime
from enum import Enum
from typing import Any, Union, get_args, get_origin

import orjson

from schemas.event import Event

_JSON_TYPES: dict[Any, tuple[type, ...]] = {
    str: (str,),
    datetime: (str,),
    float: (int, float),
    int: (int,),
    bool: (bool,),
    dict: (dict,),
    list: (list,),
}


def _json_types(annotation: Any) -> tuple[type, ...]:
    """The Python types JSON decoding gives for a field of this annotation."""
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        return tuple(kind for arg in get_args(annotation) for kind in _json_types(arg))
    if annotation is type(None):
        return (type(None),)
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return (str,)
    return _JSON_TYPES[origin or annotation]


# JSON decoding gives these exact types, so a set lookup of a value's type checks it, and a
# boolean is never taken for a number.
FIELD_TYPES = {name: frozenset(_json_types(field.annotation)) for name, field in Event.model_fields.items()}
REQUIRED = frozenset(name for name, field in Event.model_fields.items() if field.is_required())
TIMES = tuple(name for name, field in Event.model_fields.items() if datetime in (field.annotation, *get_args(field.annotation)))


# What each type is called in JSON, in the order a reason lists them.
JSON_NAMES = {str: "text", int: "an integer", float: "a number", bool: "a boolean", dict: "an object", list: "an array",
              type(None): "null"}


def _type_names(kinds: frozenset[type]) -> str:
    return " or ".join(name for kind, name in JSON_NAMES.items() if kind in kinds)


def _breach(event: Any) -> str | None:
    if type(event) is not dict:
        return f"a record of the events topic must be a JSON object, not {JSON_NAMES.get(type(event), 'that')}"
    if not REQUIRED <= event.keys():
        missing = [name for name in Event.model_fields if name in REQUIRED - event.keys()]
        return f"a record of the events topic lacks {', '.join(missing)}"
    for name, value in event.items():
        allowed = FIELD_TYPES.get(name)
        if allowed is not None and type(value) not in allowed:
            return f"{name} of a record of the events topic is {JSON_NAMES[type(value)]}, not {_type_names(allowed)}"
    for name in TIMES:
        value = event.get(name)
        if value is not None:
            try:
                datetime.fromisoformat(value)
            except ValueError:
                return f"{name} of a record of the events topic is not an ISO 8601 time"
    return None


def decoded_event(key: bytes | None, value: bytes | None) -> tuple[dict[str, Any] | None, str | None]:
    """(the event, None) for a record that holds an Event's shape under its own site's key
    (`site:visitor`, schemas.event), else (None, the reason)."""
    try:
        event = orjson.loads(value or b"")
    except orjson.JSONDecodeError:
        return None, "a record of the events topic is not JSON"
    reason = _breach(event)
    if reason:
        return None, reason
    if not isinstance(key, bytes) or not key.startswith(f"{event['site_id']}:".encode()):
        return None, "a record of the events topic is not keyed by its site and visitor"
    try:
        key.decode()
    except UnicodeDecodeError:
        return None, "a record of the events topic has a key that is not UTF-8"
    return event, None
