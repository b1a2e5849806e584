"""Run the webhook deliverer: `python -m webhooks` (what `footfall up` starts when a site
has webhooks)."""

from __future__ import annotations

import asyncio
import logging
import signal

from prometheus_client import start_http_server

from infra.config import Settings, load
from webhooks import metrics
from webhooks.deliverer import consume

log = logging.getLogger("footfall.webhooks")


async def serve(settings: Settings) -> None:
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    await consume(settings, stopping)


def main() -> None:
    settings = load()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("aiokafka").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    metrics.start_at_zero([site.id for site in settings.sites if site.webhooks])
    start_http_server(settings.webhook_metrics_port, addr="127.0.0.1")
    hooks = sum(len(site.webhooks) for site in settings.sites)
    log.info("delivering to %d webhooks; metrics on 127.0.0.1:%d", hooks, settings.webhook_metrics_port)
    asyncio.run(serve(settings))


if __name__ == "__main__":
    main()
