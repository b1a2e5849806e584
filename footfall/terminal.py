"""Printing to the terminal with data shown as text, never as markup.

Paths, event names, currencies and ClickHouse's messages come from whoever sent events or
wrote a file, so none of them may be read as rich markup (`[/x]` would crash a command),
as an emoji code (`root:x:0:0`) or as a terminal control sequence (an escape that opens a
link or moves the cursor). Styling belongs to footfall's own words only.
"""

from __future__ import annotations

import re

from rich.console import Console
from rich.text import Text

# C0 and C1 control characters but tab and newline: each shown as its \\xNN escape.
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")

console = Console(emoji=False)


def shown(value: object) -> str:
    """A value as the characters it holds, control characters spelled out."""
    return CONTROL.sub(lambda found: f"\\x{ord(found.group()):02x}", str(value))


def literal(value: object) -> Text:
    """A value for a table cell or a line of its own: plain text, no markup."""
    return Text(shown(value))


def styled(*parts: object) -> Text:
    """A line of footfall's own words and data: a `(text, style)` pair is styled, anything
    else is shown as written. No part is read as markup."""
    return Text.assemble(*((shown(part[0]), part[1]) if isinstance(part, tuple) else shown(part) for part in parts))
