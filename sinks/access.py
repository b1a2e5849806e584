"""Who may use the sink's port: a request must carry the sink's token, name a loopback
host (or a configured one), and not come from a web page of another origin.

The port reads every table, so a local process without the token, a page that reached it
through DNS rebinding (its Host is the page's name), or a cross-site request from a
browser that holds the analyst's Basic credentials must all be refused. /healthz and
/metrics (and ClickHouse's /ping) answer without the token: they hold no customer data,
and the stack's health probes and a local Prometheus read them.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
from collections.abc import Iterable, Mapping

from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp

ANALYST_USER = "analyst"
OPEN_PATHS = frozenset({"/healthz", "/metrics", "/ping"})
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]"})
AUTHENTICATION_FAILED = 516
ACCESS_DENIED = 497


# A Host header: a name or a bracketed IPv6 address, then at most a numeric port (or a
# bare IPv6 address, taken whole). Anything else (`localhost:80@evil`, `[::1]x`) names no host.
HOST = re.compile(r"(\[[0-9a-f:.]+\]|[^:\[\]@/\s]+)(?::[0-9]{1,5})?|([0-9a-f.]*(?::[0-9a-f.]*){2,})")


def host_name(host: str) -> str:
    """A Host header without its port: `[::1]:8090` → `[::1]`, `localhost:8090` → `localhost`;
    empty for one that is not a host and port."""
    match = HOST.fullmatch(host.strip().lower())
    return (match.group(1) or match.group(2)) if match else ""


def host_allowed(host: str | None, allowed: Iterable[str]) -> bool:
    name = host_name(host or "")
    return bool(name) and name in LOOPBACK_HOSTS | {allowed_name.lower() for allowed_name in allowed}


def cross_site(headers: Mapping[str, str]) -> bool:
    """Whether a browser sent the request from a page of another origin than the port's own."""
    origin = headers.get("origin")
    if origin is not None and origin != f"http://{headers.get('host', '')}":
        return True
    return headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none")


def offered_credentials(headers: Mapping[str, str]) -> tuple[str | None, str] | None:
    """(user, secret) as a client offers them: Bearer, Basic, or ClickHouse's own headers."""
    authorization = headers.get("authorization", "")
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() == "bearer":
        return None, value.strip()
    if scheme.lower() == "basic":
        try:
            user, _, password = base64.b64decode(value.strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return user, password
    if "x-clickhouse-key" in headers:
        return headers.get("x-clickhouse-user", ANALYST_USER), headers["x-clickhouse-key"]
    return None


def authenticated(offered: tuple[str | None, str], token: str) -> bool:
    user, secret = offered
    right_secret = hmac.compare_digest(secret.encode(), token.encode())
    return right_secret and user in (None, ANALYST_USER)


def clickhouse_error(code: int, status: int, message: str, **headers: str) -> Response:
    """A refusal as ClickHouse words one, so the analysts' clients show it as such."""
    body = f"Code: {code}. DB::Exception: {message}. ({'AUTHENTICATION_FAILED' if code == AUTHENTICATION_FAILED else 'ACCESS_DENIED'})\n"
    return Response(body, status, headers={"X-ClickHouse-Exception-Code": str(code), **headers}, media_type="text/plain")


class SinkAccess(BaseHTTPMiddleware):
    """Refuses a request to the sink's port with a foreign Host, from another origin, or
    (outside OPEN_PATHS) without the token."""

    def __init__(self, app: ASGIApp, token: str, allowed_hosts: Iterable[str] = ()):
        super().__init__(app)
        self._token = token
        self._hosts = tuple(allowed_hosts)

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        headers = request.headers
        if not host_allowed(headers.get("host"), self._hosts):
            return clickhouse_error(ACCESS_DENIED, 421, "this port answers only for a loopback Host (or one in sink_allowed_hosts)")
        if cross_site(headers):
            return clickhouse_error(ACCESS_DENIED, 403, "requests from another origin's web pages are refused")
        if request.url.path in OPEN_PATHS:
            return await call_next(request)
        # As ClickHouse answers: 401 asking for credentials, 403 for wrong ones.
        offered = offered_credentials(headers)
        if offered is None:
            return clickhouse_error(AUTHENTICATION_FAILED, 401, f"{ANALYST_USER}: the sink's token is required (footfall credentials prints it)",
                                    **{"WWW-Authenticate": 'Bearer realm="footfall"'})
        if not authenticated(offered, self._token):
            return clickhouse_error(AUTHENTICATION_FAILED, 403, f"{ANALYST_USER}: Authentication failed: the password is not the sink's token")
        return await call_next(request)
