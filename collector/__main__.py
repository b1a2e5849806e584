"""Run the collector: `python -m collector` (what `footfall up` starts)."""

from __future__ import annotations

import logging

import uvicorn

from footfall.settings import load


def main() -> None:
    settings = load()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    uvicorn.run(
        "collector.app:app_from_environment",
        factory=True,
        host=settings.collector_host,
        port=settings.collector_port,
        workers=settings.collector_workers,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
