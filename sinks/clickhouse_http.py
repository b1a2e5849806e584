"""The ClickHouse HTTP interface, for reads, on the sink's port: what lets analysts'
own clients (clickhouse-connect, DBeaver, Metabase, Superset, Grafana) query the
embedded engine, which has no server of its own for them to connect to.

Requests are taken as ClickHouse takes them: the statement in the `query` parameter,
the body, or both (parameter first, then a line break, then the body); `default_format`
and `database` parameters; `param_<name>` values for `{name:Type}` placeholders; the
result in the FORMAT clause's format. Every other parameter would change a setting, which
the read-only mode refuses, so none is applied.
Answers carry the headers clients read, and errors ClickHouse's code and wording.
"""

from __future__ import annotations

import asyncio
import gzip
import re
import uuid
from collections.abc import Callable

import orjson
from starlette.requests import Request
from starlette.responses import Response

from infra.clickhouse.backend import CONTENT_CODES, ClickHouseError, Formatted
from infra.clickhouse.confinement import refusal

DEFAULT_FORMAT = "TabSeparated"
MAX_QUERY_BYTES = 1 << 20
DISPLAY_NAME = "footfall"
SUMMARY = orjson.dumps({"read_rows": "0", "read_bytes": "0", "written_rows": "0", "written_bytes": "0",
                        "total_rows_to_read": "0", "result_rows": "0", "result_bytes": "0"}).decode()
# HTTP statuses as ClickHouse gives them for its error codes; any other code is a 500.
STATUS_BY_CODE = {
    46: 400,   # UNKNOWN_FUNCTION
    62: 400,   # SYNTAX_ERROR
    60: 404,   # UNKNOWN_TABLE
    81: 404,   # UNKNOWN_DATABASE
    73: 400,   # UNKNOWN_FORMAT
    164: 403,  # READONLY
    497: 403,  # ACCESS_DENIED
}
CONTENT_TYPES = (
    ("json", "application/json; charset=UTF-8"),
    ("csv", "text/csv; charset=UTF-8; header=absent"),
    ("tabseparated", "text/tab-separated-values; charset=UTF-8"),
    ("tsv", "text/tab-separated-values; charset=UTF-8"),
    ("native", "application/octet-stream"),
    ("rowbinary", "application/octet-stream"),
    ("parquet", "application/octet-stream"),
    ("arrow", "application/octet-stream"),
)
Read = Callable[[str, str, "str | None", "dict[str, str]"], Formatted]
PARAMETER_PREFIX = "param_"
# A client's own query id is echoed in a header: only when it cannot break one.
QUERY_ID = re.compile(r"[A-Za-z0-9_.:-]{1,128}")


def content_type(fmt: str) -> str:
    lowered = fmt.lower()
    return next((kind for prefix, kind in CONTENT_TYPES if lowered.startswith(prefix)), "text/plain; charset=UTF-8")


def status_of(code: int | None) -> int:
    if code in STATUS_BY_CODE:
        return STATUS_BY_CODE[code]
    return 400 if code in CONTENT_CODES else 500


def error_response(exc: ClickHouseError, headers: dict[str, str]) -> Response:
    code = exc.code if exc.code is not None else 1002
    message = str(exc).strip()
    body = message if message.startswith("Code:") else f"Code: {code}. DB::Exception: {message}"
    return Response(body + "\n", status_of(exc.code), media_type="text/plain; charset=UTF-8",
                    headers={**headers, "X-ClickHouse-Exception-Code": str(code)})


def gzipped(request: Request) -> bool:
    """ClickHouse compresses only when asked twice: the setting, and the client accepting it."""
    asked = request.query_params.get("enable_http_compression", "0").lower() in ("1", "true")
    return asked and "gzip" in request.headers.get("accept-encoding", "").lower()


async def statement(request: Request) -> str:
    """The `query` parameter, then a line break and the body; bounded, like max_query_size."""
    text = request.query_params.get("query", "")
    body = bytearray()
    if request.method == "POST":
        if request.headers.get("content-encoding", "identity").lower() != "identity":
            # Clients compress only an insert's data (with its statement, or after it in
            # the parameter): refused as ClickHouse refuses a write here, the body unread.
            raise refusal("a compressed request body is an insert's data, and inserts are refused")
        async for chunk in request.stream():
            body += chunk
            if len(body) + len(text) > MAX_QUERY_BYTES:
                raise ClickHouseError(f"Code: 36. DB::Exception: a query of more than {MAX_QUERY_BYTES} bytes. (BAD_ARGUMENTS)")
    return "\n".join(part for part in (text, body.decode(errors="replace")) if part)


def clickhouse_endpoint(read: Read) -> Callable[[Request], object]:
    """`/`: a read through `read` (the sink's confined one), answered as ClickHouse would."""

    async def endpoint(request: Request) -> Response:
        given = request.query_params.get("query_id", "")
        query_id = given if QUERY_ID.fullmatch(given) else str(uuid.uuid4())
        headers = {"X-ClickHouse-Query-Id": query_id,
                   "X-ClickHouse-Server-Display-Name": DISPLAY_NAME, "X-ClickHouse-Timezone": "UTC",
                   "X-ClickHouse-Summary": SUMMARY}
        try:
            sql = await statement(request)
            if not sql.strip() and request.method == "GET":
                return Response("Ok.\n", media_type="text/plain; charset=UTF-8", headers=headers)
            params = request.query_params
            fmt = params.get("default_format") or DEFAULT_FORMAT
            values = {name.removeprefix(PARAMETER_PREFIX): value for name, value in params.items() if name.startswith(PARAMETER_PREFIX)}
            result = await asyncio.to_thread(read, sql, fmt, params.get("database") or None, values)
        except ClickHouseError as exc:
            return error_response(exc, headers)
        body = result.body
        headers["X-ClickHouse-Format"] = result.format
        if gzipped(request):
            body = gzip.compress(body, compresslevel=3)
            headers["Content-Encoding"] = "gzip"
        return Response(body, media_type=content_type(result.format), headers=headers)

    return endpoint


async def ping(request: Request) -> Response:
    return Response("Ok.\n", media_type="text/plain; charset=UTF-8")
