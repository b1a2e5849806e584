"""Each site's analytics, typed: its parameters, segment rules and funnels, parsed from the
tables of its `[[sites]]` entry that Settings read (infra.config.Site). Everything is
optional; a mistake is reported with the site, the segment or funnel and the field at fault.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cached_property, lru_cache
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from infra.config import Site
from processors.analytics.funnels import Funnel, Step, parse_steps
from processors.analytics.parameters import Parameters
from processors.analytics.segments import Segment, builtin_segments, parse_segment
from schemas.names import NAME_PATTERN


def _segments(raw: list[Any]) -> tuple[Segment, ...]:
    """The site's own segments; infra.config.Site has made sure they come as a list."""
    return tuple(parse_segment(item, f"segments[{i}]") for i, item in enumerate(raw))


class FunnelConfig(BaseModel):
    """One `[[sites.funnels]]` table: a funnel's name, window and steps."""

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
    """One site's analytics, from the analytics tables of its `[[sites]]` entry."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    id: str  # validated with the rest of the site's entry (infra.config.Site)
    analytics: Parameters = Field(default_factory=Parameters)
    segments: Annotated[tuple[Segment, ...], BeforeValidator(_segments)] = ()
    funnels: tuple[FunnelConfig, ...] = ()
    # The segments the site's webhooks filter on (infra.config.Webhook), checked here where
    # the built-in segments are known: a misspelt one would never fire.
    webhook_segments: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _unique_names(self) -> SiteAnalytics:
        clash = _duplicates(segment.name for segment in self.segment_rules)
        if clash:
            raise ValueError(f"segment names must be unique (built-in ones included): {', '.join(clash)}")
        clash = _duplicates(funnel.name for funnel in self.funnels)
        if clash:
            raise ValueError(f"funnel names must be unique: {', '.join(clash)}")
        unknown = sorted(set(self.webhook_segments) - {segment.name for segment in self.segment_rules})
        if unknown:
            raise ValueError(f"webhooks name segments the site does not have: {', '.join(unknown)}")
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
    """Every configured site's analytics."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sites: tuple[SiteAnalytics, ...] = ()

    @cached_property
    def by_id(self) -> dict[str, SiteAnalytics]:
        return {site.id: site for site in self.sites}

    def for_site(self, site_id: str) -> SiteAnalytics:
        """The site's analytics; the defaults for a site this worker's settings do not name."""
        return self.by_id.get(site_id) or _unconfigured(site_id)


@lru_cache(maxsize=1024)
def _unconfigured(site_id: str) -> SiteAnalytics:
    """Made once per site: a fresh one would parse the built-in rules again for every event."""
    return SiteAnalytics(id=site_id)


def for_sites(sites: Iterable[Site]) -> AnalyticsConfig:
    """The analytics of every site; pydantic's ValidationError names the site's position,
    the section and what is wrong."""
    return AnalyticsConfig.model_validate({
        "sites": [
            {"id": site.id, "analytics": site.analytics, "segments": site.segments, "funnels": site.funnels,
             "webhook_segments": [name for hook in site.webhooks for name in hook.segments]}
            for site in sites
        ]
    })
