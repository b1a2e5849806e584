"""Each site's latest lifetime value models on a worker: footfall.clv_models read whole, from
its beginning at start and then as fits arrive, outside any consumer group (every worker
needs every site's fit). A record that is no fit is logged and skipped."""

from __future__ import annotations

import logging

from aiokafka.errors import KafkaError
from pydantic import ValidationError

from infra.kafka.connection import KafkaConnection
from infra.kafka.publisher import Record
from infra.kafka.whole_topic import CONNECT_BACKOFF, from_the_beginning
from infra.retry import retry_async
from processors.analytics.clv.bgnbd import BgNbd
from processors.analytics.clv.gamma_gamma import GammaGamma
from processors.analytics.clv.value import Fitted
from schemas.clv import ClvFit
from schemas.topics import CLV_MODELS

log = logging.getLogger("footfall.sessioniser")


def fit_record(fit: ClvFit) -> Record:
    """A fit as the topic holds it: keyed by its site, so compaction keeps the latest."""
    return Record(CLV_MODELS.name, fit.key, fit.model_dump_json().encode())


def fitted_of(fit: ClvFit) -> Fitted:
    return Fitted(BgNbd(fit.r, fit.alpha, fit.a, fit.b), GammaGamma(fit.p, fit.q, fit.v))


class ClvModels:
    """The latest fit of each site, and the sites whose fit changed since their customers'
    rows were last rewritten."""

    def __init__(self) -> None:
        self.fits: dict[str, ClvFit] = {}
        self.fitted: dict[str, Fitted] = {}
        self.changed: set[str] = set()

    def take(self, value: bytes | None) -> ClvFit | None:
        """A record of the topic: the fit it holds if it is later than the site's known one;
        None for one refused (logged) or superseded. A tombstone or garbage never stops the reading."""
        try:
            fit = ClvFit.model_validate_json(value or b"")
        except ValidationError as exc:
            log.warning("skipped a record of %s that is no fit: %s", CLV_MODELS.name, str(exc).splitlines()[0])
            return None
        known = self.fits.get(fit.site_id)
        if known is not None and known.fitted_at_ms >= fit.fitted_at_ms:
            return None
        self.fits[fit.site_id] = fit
        self.fitted[fit.site_id] = fitted_of(fit)
        self.changed.add(fit.site_id)
        return fit

    async def read(self, connection: KafkaConnection) -> None:
        """Read for as long as the worker runs (cancelled at its shutdown)."""
        consumer = await retry_async(lambda: from_the_beginning(connection, CLV_MODELS, "footfall-clv-models"), KafkaError, CONNECT_BACKOFF)
        try:
            while True:
                for records in (await consumer.getmany(timeout_ms=1000, max_records=100)).values():
                    for record in records:
                        if fit := self.take(record.value):
                            log.info("lifetime value models of site %s, fitted at %d on %d customers, applied",
                                     fit.site_id, fit.fitted_at_ms, fit.customers)
        finally:
            await consumer.stop()
