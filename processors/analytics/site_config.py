"""Per-site analytics configuration: segment rules, funnels and the parameters they use.

It lives beside each site's own settings in the config file, inside its `[[sites]]`
entry, so everything about a site is in one place:

    [[sites]]
    id = "demo"
    write_key = "demo_key"

    [sites.analytics]
    cart_abandonment_hours = 4
    churn_days = 90

    [[sites.segments]]
    name = "high_value_women"
    all = [{field = "traits.gender", op = "eq", value = "f"}, {field = "revenue", op = "gte", value = 500}]

    [[sites.funnels]]
    name = "checkout"
    window_s = 3600
    steps = [{event = "Product Added"}, {event = "Checkout Started"}, {type = "purchase"}]

Everything is optional: a site with no analytics section gets the built-in segments with
the defaults below and no funnels. A mistake is reported with the site, the segment or
funnel and the field or op at fault.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from processors.analytics.funnels import Funnel, Step, parse_steps
from processors.analytics.parameters import Parameters
from processors.analytics.segments import Segment, builtin_segments, parse_segment
from schemas.names import NAME_PATTERN


def _segments(raw: Any) -> tuple[Segment, ...]:
    if not isinstance(raw, list):
        raise ValueError("segments: expected a list of [[sites.segments]] tables")
    return tuple(parse_segment(item, f"segments[{i}]") for i, item in enumerate(raw))


class FunnelConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    name: str = Field(pattern=NAME_PATTERN)
    window_s: float = Field(gt=0)
    steps: Annotated[tuple[Step, ...], BeforeValidator(lambda raw: parse_steps(raw, "steps"))]

    def funnel(self, lateness_ms: int) -> Funnel:
        return Funnel(self.name, self.steps, round(self.window_s * 1000), lateness_ms)


def _duplicates(names: Iterable[str]) -> list[str]:
    names = list(names)
    return sorted({name for name in names if names.count(name) > 1})


class SiteAnalytics(BaseModel):
    """One site's analytics, from its `[[sites]]` entry (other keys there are settings')."""

    model_config = ConfigDict(extra="ignore", frozen=True, arbitrary_types_allowed=True)

    id: str = Field(pattern=NAME_PATTERN)
    analytics: Parameters = Field(default_factory=Parameters)
    segments: Annotated[tuple[Segment, ...], BeforeValidator(_segments)] = ()
    funnels: tuple[FunnelConfig, ...] = ()

    @model_validator(mode="after")
    def _unique_names(self) -> SiteAnalytics:
        clash = _duplicates(segment.name for segment in self.segment_rules)
        if clash:
            raise ValueError(f"segment names must be unique (built-in ones included): {', '.join(clash)}")
        clash = _duplicates(funnel.name for funnel in self.funnels)
        if clash:
            raise ValueError(f"funnel names must be unique: {', '.join(clash)}")
        return self

    @cached_property
    def segment_rules(self) -> tuple[Segment, ...]:
        """The built-in segments (unless turned off), then the site's own."""
        builtins = builtin_segments(self.analytics) if self.analytics.builtin_segments else ()
        return (*builtins, *self.segments)

    @cached_property
    def segment_texts(self) -> dict[str, str]:
        """Each segment's rule as configured; a segment since removed has none."""
        return {segment.name: segment.text for segment in self.segment_rules}

    @cached_property
    def funnel_definitions(self) -> tuple[Funnel, ...]:
        lateness_ms = round(self.analytics.funnel_lateness_hours * 3_600_000)
        return tuple(config.funnel(lateness_ms) for config in self.funnels)


class AnalyticsConfig(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    sites: tuple[SiteAnalytics, ...] = ()

    def for_site(self, site_id: str) -> SiteAnalytics:
        """The site's analytics; the defaults for a site the file does not describe (one
        configured through the environment, or the demo site)."""
        return next((site for site in self.sites if site.id == site_id), None) or _unconfigured(site_id)


@lru_cache(maxsize=1024)
def _unconfigured(site_id: str) -> SiteAnalytics:
    """Made once per site: a fresh one would parse the built-in rules again for every event
    (it was an eighth of a worker's time)."""
    return SiteAnalytics(id=site_id)


def parse(config: Mapping[str, Any]) -> AnalyticsConfig:
    """The analytics of every site in a parsed config file; pydantic's ValidationError
    names the site's position, the section and what is wrong."""
    return AnalyticsConfig.model_validate(config)


def load(path: Path | None) -> AnalyticsConfig:
    """From the config file (infra.config.config_file()); defaults without one."""
    if path is None:
        return AnalyticsConfig()
    with path.open("rb") as file:
        return parse(tomllib.load(file))
