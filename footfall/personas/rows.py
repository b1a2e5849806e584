"""A fit of personas as rows of footfall.personas (one a persona, the portrait as JSON) and
of footfall.customer_personas (one a customer), with the time of the fit."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

import orjson

from footfall.personas.model import Personas
from sinks.rows import clickhouse_text


def portrait_json(portrait: Any) -> str:
    """The portrait's lists and demographics; its figures have columns of their own."""
    drawn = dataclasses.asdict(portrait)
    kept = ("nps_answers", "demographics", "countries", "devices", "channels", "top_pages", "problems")
    return orjson.dumps({key: drawn[key] for key in kept}).decode()


def persona_rows(site: str, fitted: Personas, at: datetime) -> list[dict[str, Any]]:
    fitted_at = clickhouse_text(at)
    return [
        {"site_id": site, "fitted_at": fitted_at, "persona_id": persona.persona_id, "name": persona.name,
         "customers": persona.portrait.customers, "customer_share": persona.portrait.customer_share,
         "revenue_share": persona.portrait.revenue_share, "conversion": persona.portrait.conversion,
         "aov": persona.portrait.aov, "purchase_frequency": persona.portrait.purchase_frequency,
         "clv_historical": persona.portrait.clv_historical, "clv_predicted": persona.portrait.clv_predicted,
         "nps": persona.portrait.nps, "criterion": fitted.criterion, "portrait": portrait_json(persona.portrait),
         "features": list(persona.centre.features), "centroid": list(persona.centre.centroid)}
        for persona in fitted.personas
    ]


def assignment_rows(site: str, fitted: Personas, at: datetime) -> list[dict[str, Any]]:
    fitted_at = clickhouse_text(at)
    return [{"site_id": site, "customer_id": customer, "persona_id": persona.persona_id, "fitted_at": fitted_at}
            for persona in fitted.personas for customer in persona.members]
