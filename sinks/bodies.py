"""Request bodies read no further than a limit: a chunked body has no Content-Length to be
refused by, so without one a client could make the sink hold any amount in memory."""

from __future__ import annotations

from starlette.requests import Request


class BodyTooLarge(Exception):
    """A body longer than its route takes."""


async def bounded_body(request: Request, limit: int) -> bytes:
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise BodyTooLarge(f"the body is larger than {limit} bytes")
    return bytes(body)
