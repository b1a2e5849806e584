"""Faust tables whose changelog holds our objects' JSON: the table keeps the objects, so an
event costs no decoding, and only the changelog (and a worker recovering from it) sees bytes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import faust
import orjson
from faust.serializers.codecs import Codec, register

from schemas.topics import EVENTS


class JsonCodec(Codec):
    """A changelog value serializer, registered with Faust under `name`: `dump` makes an
    object a JSON-able value, `load` makes it back."""

    def __init__(self, name: str, dump: Callable[[Any], Any], load: Callable[[Any], Any]):
        super().__init__()
        self.name, self.dump, self.load = name, dump, load

    def _dumps(self, obj: Any) -> bytes:
        return orjson.dumps(self.dump(obj))

    def _loads(self, s: bytes) -> Any:
        return self.load(orjson.loads(s))


def json_table(app: faust.App, name: str, codec: JsonCodec) -> faust.Table:
    """A table keyed by event key, partitioned like the events, its changelog in `codec`.

    Faust makes a table's changelog topic as the table is made, with the serializer of its
    value type (json without one). Setting the table's value_serializer afterwards changes
    how values are sent but not how a recovering worker decodes them: it would get dicts.
    So the topic is made again, with the codec, before the app starts."""
    register(codec.name, codec)
    table = app.Table(name, key_type=bytes, partitions=EVENTS.partitions)
    table.value_serializer = codec.name
    table.changelog_topic = table._new_changelog_topic()
    return table
