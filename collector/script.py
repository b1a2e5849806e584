"""GET /footfall.js: the tracking script, as the set-up built it, cacheable and compressed.

The file is built from collector/tracker/src by `make setup` and never edited by hand. It is
read again only when it changes on disk, so a rebuild is served without a restart, and it
is compressed once per build rather than once per request.
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

# The tracker builds into its own folder beside this module.
SCRIPT_PATH = Path(__file__).resolve().parent / "tracker" / "dist" / "footfall.js"
# Browsers revalidate after an hour (a 304 when unchanged), so a new version reaches every
# page within the hour without each page view downloading the script.
CACHE_CONTROL = "public, max-age=3600"
MEDIA_TYPE = "text/javascript"


@dataclass(frozen=True)
class Built:
    """One build of the script in both encodings, each with its own entity tag."""

    stamp: tuple[int, int]
    plain: bytes
    gzipped: bytes
    etag: str
    gzip_etag: str

    @classmethod
    def read(cls, path: Path, stamp: tuple[int, int]) -> Built:
        plain = path.read_bytes()
        digest = hashlib.sha256(plain).hexdigest()[:20]
        return cls(stamp, plain, gzip.compress(plain, 9, mtime=0), f'"{digest}"', f'"{digest}-gzip"')


class ScriptFile:
    """The built script, read when its modification time or size changes."""

    def __init__(self, path: Path):
        self.path = path
        self._built: Built | None = None

    def current(self) -> Built | None:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return None
        stamp = (stat.st_mtime_ns, stat.st_size)
        if self._built is None or self._built.stamp != stamp:
            self._built = Built.read(self.path, stamp)
        return self._built


def accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether Accept-Encoding allows gzip: named (or `*`) without q=0."""
    for item in (accept_encoding or "").lower().split(","):
        coding, _, params = item.partition(";")
        if coding.strip() in ("gzip", "*"):
            params = params.strip()
            return not params.startswith("q=") or _positive(params[2:])
    return False


def _positive(number: str) -> bool:
    try:
        return float(number) > 0
    except ValueError:
        return False


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """If-None-Match uses the weak comparison: W/ prefixes do not matter."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    return any(tag.strip().removeprefix("W/") == etag for tag in if_none_match.split(","))


def script_endpoint(path: Path = SCRIPT_PATH) -> Callable[[Request], Awaitable[Response]]:
    script = ScriptFile(path)

    async def footfall_js(request: Request) -> Response:
        built = script.current()
        if built is None:
            detail = "the tracking script has not been built; run `make setup`, which builds collector/tracker"
            return JSONResponse({"success": False, "error": "script_not_built", "detail": detail}, 404)
        compressed = accepts_gzip(request.headers.get("accept-encoding"))
        etag = built.gzip_etag if compressed else built.etag
        headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL, "Vary": "Accept-Encoding"}
        if etag_matches(request.headers.get("if-none-match"), etag):
            return Response(status_code=304, headers=headers)
        if compressed:
            headers["Content-Encoding"] = "gzip"
        return Response(built.gzipped if compressed else built.plain, headers=headers, media_type=MEDIA_TYPE)

    return footfall_js
