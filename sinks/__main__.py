"""Run the sink: `python -m sinks` (what `footfall up` starts)."""

from __future__ import annotations

import logging

import uvicorn

from infra.config import load
from sinks.app import create_app


def main() -> None:
    settings = load()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("aiokafka").setLevel(logging.WARNING)
    uvicorn.run(create_app(settings), host="127.0.0.1", port=settings.sink_port, log_level="warning")


if __name__ == "__main__":
    main()
