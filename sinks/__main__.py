"""Run the sink: `python -m sinks` (what `footfall up` starts)."""

from __future__ import annotations

import logging

import uvicorn

from infra.clickhouse.backend import ClickHouseError
from infra.config import load
from sinks.app import create_app


def main() -> None:
    settings = load()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("aiokafka").setLevel(logging.WARNING)
    try:
        app = create_app(settings)
    except ClickHouseError as exc:
        # Said once, plainly: a sink that cannot open its ClickHouse has nothing to serve.
        raise SystemExit(f"the sink cannot start: {exc}") from None
    uvicorn.run(app, host="127.0.0.1", port=settings.sink_port, log_level="warning")


if __name__ == "__main__":
    main()
