"""Text made into a ClickHouse string literal, for the few values footfall's own statements
must spell out: whatever the text holds, the literal ends where it should and means exactly it."""

from __future__ import annotations

import re

# Backslash and quote would end or bend the literal; control characters (NUL among them)
# are spelled as \xNN so that no statement carries a raw one to a log or a terminal.
UNSAFE = re.compile(r"[\\'\x00-\x1f\x7f]")


def string_literal(value: str) -> str:
    """A quoted ClickHouse string equal to `value`; text that is not valid Unicode (a lone
    surrogate) is refused, as it has no UTF-8 bytes to stand for."""
    value.encode("utf-8")
    return "'" + UNSAFE.sub(lambda found: f"\\x{ord(found.group()):02x}", value) + "'"
