"""Faust tables whose changelog holds our objects' JSON: the codec, and giving it to a table
so that a recovering worker decodes with it too."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import faust
import orjson
from faust.serializers.codecs import Codec


def use_codec(table: faust.Table, codec: str) -> None:
    """Encode and decode a table's changelog values with `codec`.

    Faust makes a table's changelog topic as the table is made, with the serializer of its
    value type (json without one). Setting the table's value_serializer afterwards changes
    how values are sent but not how a recovering worker decodes them: it would get dicts.
    So the topic is made again, with the codec, before the app starts."""
    table.value_serializer = codec
    table.changelog_topic = table._new_changelog_topic()


class JsonCodec(Codec):
    """A changelog value serializer: the table keeps objects, the changelog their JSON form
    (`dump` to a JSON-able value, `load` back)."""

    def __init__(self, dump: Callable[[Any], Any], load: Callable[[Any], Any]):
        super().__init__()
        self.dump, self.load = dump, load

    def _dumps(self, obj: Any) -> bytes:
        return orjson.dumps(self.dump(obj))

    def _loads(self, s: bytes) -> Any:
        return self.load(orjson.loads(s))
