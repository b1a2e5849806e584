"""Run the collector: `python -m collector` (what `footfall up` starts)."""

from __future__ import annotations

import logging
import os
import tempfile

import uvicorn

from collector.geo import GeoDatabaseError, Geolocator
from infra.config import load
from infra.keys import site_key


def main() -> None:
    settings = load()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        # Refused here, once: a worker failing in the factory would be restarted for ever.
        Geolocator(settings.geoip_city_db)
        # Each site's hashing key read, or made, before the first event needs it.
        for site in settings.sites:
            site_key(settings, site.id)
    except (GeoDatabaseError, PermissionError, ValueError) as exc:
        raise SystemExit(f"collector not started: {exc}") from None
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
