"""Run the sink: `python -m sinks` (what `footfall up` starts)."""

from __future__ import annotations

import logging

import uvicorn

from infra.config import load
from infra.clickhouse.connect import open_backend
from sinks.service import Writer, http_app


def main() -> None:
    settings = load()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("aiokafka").setLevel(logging.WARNING)
    writer = Writer(open_backend(settings))
    try:
        uvicorn.run(http_app(writer, settings), host="127.0.0.1", port=settings.sink_port, log_level="warning")
    finally:
        writer.backend.close()


if __name__ == "__main__":
    main()
