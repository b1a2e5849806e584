"""Write footfall.toml for a pod: the ConfigMap's file with each site's write key and webhook
secrets filled in from the Secret.

A site's write key belongs inside its [[sites]] table, and the whole list of sites is one
setting, so neither an environment variable nor a second file can add the key to a site
the ConfigMap describes. The ConfigMap therefore holds a placeholder string in its place,
"@secret:write-key.SITE@", which this step, run by each pod's init container, replaces
with the Secret's key `write-key.SITE` (mounted as a file) written as a TOML string; a
webhook's secret likewise, "@secret:webhook-secret.SITE.N@". Only these are filled in this
way: no other secret can be made to appear in a setting.
The result is parsed before it is written, so a missing key or a value TOML cannot hold
stops the pod here, with its name, rather than confusing the process later.

Usage: python render_config.py TEMPLATE SECRETS_DIR OUTPUT
"""

from __future__ import annotations

import json
import os
import re
import sys
import tomllib
from pathlib import Path

# A site id is schemas.names.NAME_PATTERN, which is also a valid key of a Secret.
PLACEHOLDER = re.compile(r'"@secret:(write-key\.[A-Za-z0-9_.-]{1,64}|webhook-secret\.[A-Za-z0-9_.-]{1,64}\.[0-9]{1,2})@"')


class RenderError(Exception):
    """The configuration cannot be completed from the Secret."""


def toml_string(value: str) -> str:
    """A TOML basic string holding `value`: JSON's string escapes are TOML's, except that
    TOML also refuses a raw DEL."""
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def secret_value(secrets: Path, name: str) -> str:
    path = secrets / name
    if not path.is_file():
        raise RenderError(f"the Secret has no key {name!r}, which footfall.toml refers to")
    value = path.read_text(encoding="utf-8").strip()
    if not value:
        raise RenderError(f"the Secret's key {name!r} is empty")
    return value


def render(template: str, secrets: Path) -> str:
    """The template with every placeholder replaced; checked to be TOML."""
    rendered = PLACEHOLDER.sub(lambda match: toml_string(secret_value(secrets, match.group(1))), template)
    try:
        tomllib.loads(rendered)
    except tomllib.TOMLDecodeError as exc:
        raise RenderError(f"footfall.toml is not valid TOML once completed: {exc}") from None
    return rendered


def write_private(path: Path, text: str) -> None:
    """Readable by the pod's user alone: the file holds the write keys."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(text)


def main(arguments: list[str]) -> int:
    if len(arguments) != 3:
        print(__doc__.rsplit("Usage: ", 1)[1], file=sys.stderr)
        return 2
    template, secrets, output = (Path(argument) for argument in arguments)
    try:
        write_private(output, render(template.read_text(encoding="utf-8"), secrets))
    except RenderError as exc:
        print(f"footfall.toml not written: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
