"""Run the collector: `python -m collector` (what `footfall up` starts)."""

from __future__ import annotations

import logging
import os
import tempfile

import uvicorn

from footfall.settings import load


def main() -> None:
    settings = load()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # The workers' metrics meet in files of one folder, made before any worker imports
    # prometheus_client (collector.metrics), and removed when the collector stops.
    with tempfile.TemporaryDirectory(prefix="footfall-collector-metrics-") as folder:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder
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
