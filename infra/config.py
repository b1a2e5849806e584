"""Configuration: environment variables (FOOTFALL_…) over an optional TOML file over defaults.

With no configuration at all footfall runs one local site, `demo`, whose write key is
`demo_key` and which accepts browser requests from any page on localhost or 127.0.0.1,
so a first run needs nothing but `make run`.
"""

from __future__ import annotations

import fnmatch
import os
from urllib.parse import urlsplit
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, IPvAnyNetwork, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from infra.kafka.connection import BOOTSTRAP_PATTERN, KafkaConnection, SaslMechanism, SecurityProtocol
from schemas.cluster import CLUSTER_NAME
from schemas.names import NAME_PATTERN
from schemas.traits import DEFAULT_DEMOGRAPHIC_TRAITS, MAX_DEMOGRAPHIC_TRAITS
from schemas.webhooks import WebhookEvent

CONFIG_FILE_ENV = "FOOTFALL_CONFIG"
DEFAULT_CONFIG_FILE = "footfall.toml"

# What the collector does with a personal trait or property: store it as sent, store a
# keyed hash of it, or leave it out.
PersonalAction = Literal["keep", "hash", "drop"]
PersonalName = Annotated[str, Field(min_length=1, max_length=200)]

LOCAL_ORIGINS = (
    "http://localhost",
    "http://localhost:*",
    "http://127.0.0.1",
    "http://127.0.0.1:*",
    "https://localhost",
    "https://localhost:*",
    "https://127.0.0.1",
    "https://127.0.0.1:*",
)


Name = Annotated[str, Field(pattern=NAME_PATTERN)]
MAX_WEBHOOKS = 20
MAX_WEBHOOK_FILTERS = 100


class Webhook(BaseModel):
    """One `[[sites.webhooks]]` table: where a site's segment and funnel changes are POSTed,
    the secret their signature is keyed with, and which changes it wants."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    url: str = Field(max_length=2048)
    secret: str = Field(min_length=16, max_length=512)
    on: list[WebhookEvent] = Field(min_length=1, max_length=3)
    # Only these segments' changes, only these funnels' completions; empty: all of them.
    segments: list[Name] = Field(default_factory=list, max_length=MAX_WEBHOOK_FILTERS)
    funnels: list[Name] = Field(default_factory=list, max_length=MAX_WEBHOOK_FILTERS)

    @field_validator("url")
    @classmethod
    def _plain_web_address(cls, url: str) -> str:
        """http or https to a host, nothing else: a user:password in the address would sit
        in logs and dead letters, where the secret, kept apart, does not."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise ValueError(f"not a URL: {exc}") from None
        if parts.scheme not in ("http", "https"):
            raise ValueError(f"must be an http:// or https:// URL, not {parts.scheme or 'one without a scheme'}")
        if not parts.hostname:
            raise ValueError("names no host")
        if parts.username is not None or parts.password is not None:
            raise ValueError("must not carry credentials: the receiver checks the signature made with `secret`")
        if parts.fragment or port == 0 or any(ord(c) < 33 for c in url):
            raise ValueError("must hold no fragment, port 0, spaces or control characters")
        return url

    @field_validator("on")
    @classmethod
    def _each_once(cls, events: list[str]) -> list[str]:
        if len(set(events)) != len(events):
            raise ValueError("names an event more than once")
        return events


class Site(BaseModel):
    """A website that sends events: its write key, the page origins allowed to send, and its analytics."""

    # A refusal names the field at fault, never its value: a write key, a hashing key or a
    # webhook's secret would otherwise be printed wherever the error goes.
    model_config = ConfigDict(hide_input_in_errors=True)

    id: str = Field(pattern=NAME_PATTERN)
    write_key: str = Field(min_length=1)
    # Shell-style patterns matched against the Origin header, e.g. "https://*.example.com".
    allowed_origins: list[str] = Field(default_factory=list)
    # This site's inactivity that ends a session, when it differs from session_gap_s.
    session_gap_s: float | None = Field(default=None, gt=0)
    # Whether browsers that send Do Not Track or Global Privacy Control are left untracked.
    respect_dnt: bool = True
    # Whether crawlers' and headless browsers' events count as traffic. Either way they are
    # stored in footfall.events with their bot mark; left False, sessions, segments, funnels,
    # customers, heatmaps and the report leave them out.
    count_bots: bool = False
    # The key this site's personal values and erased ids are hashed with; unset, one is
    # derived for the site from the installation's key (infra.keys.site_key).
    hash_secret: str | None = Field(default=None, min_length=16)
    # [sites.personal_data]: trait and property names this site holds personal, each with
    # its action; they add to and override footfall's defaults (collector.personal_data).
    personal_data: dict[PersonalName, PersonalAction] = Field(default_factory=dict)
    # The traits of identify calls footfall.events stores (schemas.traits), for personas:
    # only these names, as bounded text or finite numbers. Empty stores none.
    demographic_traits: list[PersonalName] = Field(default_factory=lambda: list(DEFAULT_DEMOGRAPHIC_TRAITS),
                                                   max_length=MAX_DEMOGRAPHIC_TRAITS)
    # The site's analytics tables as written: [sites.analytics] parameters, [[sites.segments]]
    # and [[sites.funnels]]. Kept as data here; the processors give them their types
    # (processors.analytics.site_config), the other stages have no use for them.
    analytics: dict[str, Any] = Field(default_factory=dict)
    segments: list[Any] = Field(default_factory=list)
    funnels: list[Any] = Field(default_factory=list)
    # [[sites.webhooks]]: receivers of the site's segment changes and funnel completions.
    webhooks: list[Webhook] = Field(default_factory=list, max_length=MAX_WEBHOOKS)

    @model_validator(mode="after")
    def _webhook_funnels_exist(self) -> "Site":
        """A hook's funnel filter names funnels of this site: a misspelt one would wait for
        completions that never come. (Segments include built-in ones only the processors
        know; a hook naming an unknown segment simply never fires.)"""
        known = {funnel.get("name") for funnel in self.funnels if isinstance(funnel, dict)}
        for index, hook in enumerate(self.webhooks):
            unknown = sorted(set(hook.funnels) - known)
            if unknown:
                raise ValueError(f"webhooks[{index}] names funnels the site does not have: {', '.join(unknown)}")
        return self

    def allows_origin(self, origin: str) -> bool:
        return any(fnmatch.fnmatchcase(origin, pattern) for pattern in self.allowed_origins)


class RequestLimits(BaseModel):
    """What one request to the collector may hold; the defaults follow Segment's HTTP API
    (32 KB a message), so no real SDK meets them and a hostile sender does."""

    # Messages in one batch: more refuses the request (413).
    max_messages: int = Field(default=2500, ge=1)
    # One message as JSON, with the batch's context merged in: more refuses that message.
    max_message_bytes: int = Field(default=32 * 1024, ge=1024)
    # Characters in any key or string value of a message.
    max_string_chars: int = Field(default=8192, ge=64)
    # How deeply objects and arrays nest inside a message.
    max_depth: int = Field(default=32, ge=4, le=200)
    # Bytes of events one request may produce in all: more refuses the request (413)
    # before any event is built.
    max_output_bytes: int = Field(default=4 * 1024 * 1024, ge=64 * 1024)
    # Event times older than this many days (backfills of history reach back years), or
    # ahead of the server's clock by more than max_future_s, refuse that message.
    horizon_days: int = Field(default=5 * 365, ge=1)
    max_future_s: float = Field(default=24 * 3600, ge=0)


class RateLimits(BaseModel):
    """Token buckets the collector refuses a sender with 429 past: one per write key and one
    per client address, both charged a token per message. A busy site and a server-side SDK
    stay under the defaults; a flood from one address does not."""

    # Events a second, and how many may come at once, for one site's write key.
    write_key_rate: float = Field(default=20_000, gt=0)
    write_key_burst: float = Field(default=200_000, ge=1)
    # The same for one client address (an IPv6 address counts by its /64 network).
    address_rate: float = Field(default=5_000, gt=0)
    address_burst: float = Field(default=50_000, ge=1)
    # Buckets each worker keeps at most, per kind; the least recently used goes first.
    max_buckets: int = Field(default=50_000, ge=100)
    # Proxies in front of the collector (addresses or networks): from a connection of one of
    # them the client is taken from X-Forwarded-For, which is otherwise ignored.
    trusted_proxies: list[IPvAnyNetwork] = Field(default_factory=list)


# Retentions are whole days; 0 keeps for ever. Bounded so that a row's time plus its
# retention stays well inside ClickHouse's DateTime, which ends in 2106 (past it the sum
# wraps to the past and the row would go at once).
FOREVER = 0
MAX_RETENTION_DAYS = 20 * 366
# A topic deletes whole segments, rolled weekly by default: a record may outlive its topic's
# retention by this much, so the erasures topic must outlast the others by as much again.
SEGMENT_ROLL_DAYS = 7
Days = Annotated[int, Field(ge=FOREVER, le=MAX_RETENTION_DAYS)]


class Retention(BaseModel):
    """How many days each ClickHouse table keeps its rows (a TTL, applied by `footfall migrate`
    and at every sink start) and each group of Kafka topics its records; 0 keeps them for ever."""

    # Raw behaviour: 13 months, a year of comparisons and the month before.
    events_days: Days = 396
    sessions_days: Days = 396
    funnel_progress_days: Days = 396
    segment_changes_days: Days = 396
    # Refused messages and rows, kept long enough to find and fix what sent them.
    invalid_events_days: Days = 30
    rejected_rows_days: Days = 30
    # Current state of a person, counted from its last change: three years without one, as
    # commonly allowed for a former customer, and the person is gone.
    customers_days: Days = 3 * 365
    # Who is in a segment now: a row changes only when its person enters or leaves, so a
    # long-standing member's row is old but current; kept while current (0), it leaves with
    # the membership, or with the person (`footfall forget`).
    segment_membership_days: Days = FOREVER
    # Hourly rollups hold no one's ids: 25 months, so two years compare after the events went.
    heatmap_clicks_days: Days = 761
    scroll_reach_days: Days = 761
    page_hourly_days: Days = 761
    # What a site paid for its campaigns, no personal data: ten years, as accounts are kept.
    campaign_costs_days: Days = 10 * 365
    # Each fit of a site's lifetime value models: parameters, no personal data; ten years.
    clv_models_days: Days = 10 * 365
    # Each fit of a site's personas: shares and typical values, no one's ids; ten years.
    personas_days: Days = 10 * 365
    # Each customer's persona, counted from the fit that placed them: as long as a customer.
    customer_personas_days: Days = 3 * 365
    # The proof that a person's erasure was done: five years.
    erasure_audit_days: Days = 5 * 365
    # Kafka: the events and what the workers derive from them, the collector's dead letters,
    # and the forgotten ids that keep a replay from bringing an erased person back.
    event_topics_days: Days = 7
    dead_letter_topic_days: Days = 30
    erasures_topic_days: Days = 90

    @field_validator("*", mode="before")
    @classmethod
    def _not_a_flag(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("a number of days, not true or false")
        return value

    @model_validator(mode="after")
    def _erasures_outlast_the_topics(self) -> "Retention":
        others = (self.event_topics_days, self.dead_letter_topic_days)
        if FOREVER in others:
            enough = self.erasures_topic_days == FOREVER
        else:
            enough = self.erasures_topic_days == FOREVER or self.erasures_topic_days >= max(others) + SEGMENT_ROLL_DAYS
        if not enough:
            raise ValueError(
                f"erasures_topic_days must be at least {SEGMENT_ROLL_DAYS} days more than event_topics_days and "
                "dead_letter_topic_days (0 if either is 0), or a replay could bring an erased person back"
            )
        return self

    def table_days(self, table: str) -> int:
        return getattr(self, f"{table}_days")


# Kafka keeps at most this many replicas of a partition worth asking for.
MAX_REPLICATION = 7

# The demo shop's checkout, as a site configures a funnel: from a product page through the
# cart and checkout to the order, within a day. The demo traffic takes every step of it.
DEMO_FUNNEL = {
    "name": "checkout",
    "window_s": 24 * 3600,
    "steps": [
        {"type": "page_view", "field": "path", "op": "contains", "value": "/product/"},
        {"event": "Product Added"},
        {"event": "Checkout Started"},
        {"type": "purchase"},
    ],
}
DEMO_SITE = Site(id="demo", write_key="demo_key", allowed_origins=list(LOCAL_ORIGINS), funnels=[DEMO_FUNNEL])


class Settings(BaseSettings):
    """Every part's settings, read once: the environment over the config file over defaults."""

    # Inputs are left out of validation errors: a refused setting never prints a secret.
    model_config = SettingsConfigDict(env_prefix="FOOTFALL_", env_nested_delimiter="__", extra="ignore", hide_input_in_errors=True)

    sites: list[Site] = Field(default_factory=lambda: [DEMO_SITE])

    # Relative paths are taken from the folder footfall runs in (a checkout, by default).
    state_dir: Path = Path(".state")
    kafka_libs: Path = Path(".cache/kafka/libs")
    # The deployment files the local stack reads: broker logging, Prometheus rules.
    deploy_dir: Path = Path("deploy")
    # The brokers: footfall's own local broker by default; brokers footfall did not start
    # (a cluster of yours, a managed one) are used as they are, and none is started.
    kafka_bootstrap: str = Field(default="127.0.0.1:9092", pattern=BOOTSTRAP_PATTERN)
    # How clients reach them: TLS (a CA file; a client certificate if the cluster asks
    # for one) and SASL (PLAIN or SCRAM), as a managed cluster requires.
    kafka_security_protocol: SecurityProtocol = "PLAINTEXT"
    kafka_sasl_mechanism: SaslMechanism = "PLAIN"
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    kafka_ssl_cafile: Path | None = None
    kafka_ssl_certfile: Path | None = None
    kafka_ssl_keyfile: Path | None = None
    # Replicas of every topic; unset, 3 on a cluster of 3 brokers or more, else one per
    # broker (infra.kafka.replication).
    kafka_replication: int | None = Field(default=None, ge=1, le=MAX_REPLICATION)
    kafka_controller_port: int = 9093
    kafka_heap: str = "768m"
    # How long a request waits for Kafka's acknowledgement before it answers 503.
    kafka_ack_timeout_s: float = 5.0

    # Sessions: a visitor's inactivity that ends a session, how late an event may arrive
    # and still be placed in the right session, and how often idle visitors are forgotten.
    session_gap_s: float = 30 * 60
    allowed_lateness_s: float = 5 * 60
    idle_check_s: float = 60
    # How often profiles due for a time-driven segment change (an abandoned cart, a
    # customer who churns) are woken, and how often each site's RFM boundaries are
    # recomputed.
    segment_check_s: float = 60
    rfm_refresh_s: float = 300
    # How often the lifetime value models of every site are fitted again on the purchases
    # up to today (by one worker, the group's leader); 0 never, `footfall clv fit` only.
    clv_refit_hours: float = Field(default=24, ge=0)
    # The profile of a visitor who never identified nor bought is dropped from the
    # worker's state (its rows in ClickHouse stay) after this many days without an event;
    # customers' profiles are kept. Checked every idle_check_s.
    profile_retention_days: float = Field(default=30, gt=0)
    # Events one visitor's sessionisation state may hold: more arrive only in footfall.events,
    # without a session, until older sessions leave the state (no person sends thousands of
    # events within one session's reach; a hostile sender does).
    max_visitor_events: int = Field(default=5000, ge=100, le=20_000)
    # How soon a worker that died without leaving is replaced in the consumer group.
    processor_session_timeout_s: float = 30
    # A worker takes events in batches of up to this many, or what arrived within this
    # many seconds: larger batches cost less per event, the wait adds to freshness.
    processor_batch_events: int = 5000
    processor_batch_s: float = 0.1
    # Where a worker serves /metrics on loopback; a worker finding it taken (a second worker
    # on the machine) takes a free port and logs it; 0 always takes a free one.
    processor_metrics_port: int = 8091

    # A ClickHouse server (clickhouse://user:password@host:9000/default); unset, the
    # embedded engine is used, its data in the state folder.
    clickhouse_url: str | None = None
    # The server's cluster (a name from its remote_servers): migrations then make every table
    # on every node, Replicated, with a Distributed table of the same name in front.
    clickhouse_cluster: str | None = Field(default=None, pattern=CLUSTER_NAME)
    # The sink: batches close at this many rows or this age, whichever comes first.
    sink_port: int = 8090
    sink_batch_rows: int = 5000
    sink_batch_s: float = 0.5
    sink_retry_initial_s: float = 0.5
    sink_retry_max_s: float = 10.0
    # What every request to the sink's port must carry; unset, one is made at random in
    # the state folder at first start (infra.keys).
    sink_token: str | None = Field(default=None, min_length=16)
    # Host names the sink's port answers besides the loopback ones (127.0.0.1, localhost,
    # [::1]), e.g. the name a reverse proxy forwards as; any other Host header is refused,
    # so a web page cannot reach the port through DNS rebinding.
    sink_allowed_hosts: list[str] = Field(default_factory=list)
    # The installation's key, from which each site's hashing key is derived; unset, one is
    # made at random in the state folder. Give it when several machines must agree.
    hash_key: str | None = Field(default=None, min_length=16)

    # Webhook deliveries: one attempt's wait for the receiver's answer; how long a change is
    # retried (timeouts, connection errors, 408, 429, 5xx) before it is dead-lettered; the
    # waits between attempts, doubling from the first to the longest; where /metrics is.
    webhook_timeout_s: float = Field(default=10.0, gt=0, le=300)
    webhook_retry_s: float = Field(default=3600.0, ge=0, le=7 * 24 * 3600)
    webhook_backoff_initial_s: float = Field(default=1.0, gt=0, le=3600)
    webhook_backoff_max_s: float = Field(default=300.0, gt=0, le=24 * 3600)
    webhook_metrics_port: int = 8092

    # The Prometheus `footfall up --with-monitoring` starts, on loopback.
    prometheus_port: int = 9090

    collector_host: str = "127.0.0.1"
    collector_port: int = 8080
    # Worker processes answering on the one port.
    collector_workers: int = 2
    max_body_bytes: int = 512 * 1024
    limits: RequestLimits = Field(default_factory=RequestLimits)
    rate_limits: RateLimits = Field(default_factory=RateLimits)
    retry_after_s: int = 5
    # A MaxMind City database (.mmdb) adds region and city to the country every event gets.
    geoip_city_db: Path | None = None
    # How long every table and topic keeps what it holds (FOOTFALL_RETENTION__EVENTS_DAYS …).
    retention: Retention = Field(default_factory=Retention)

    @field_validator("state_dir", "kafka_libs", "deploy_dir", "geoip_city_db", "kafka_ssl_cafile", "kafka_ssl_certfile", "kafka_ssl_keyfile")
    @classmethod
    def _absolute(cls, path: Path | None) -> Path | None:
        """Absolute once read, so child processes started elsewhere see the same folders."""
        return None if path is None else path.resolve()

    @field_validator("sites")
    @classmethod
    def _unique_sites(cls, sites: list[Site]) -> list[Site]:
        for attribute in ("id", "write_key"):
            values = [getattr(site, attribute) for site in sites]
            duplicates = sorted({value for value in values if values.count(value) > 1})
            if duplicates:
                raise ValueError(f"sites share a {attribute}: {', '.join(duplicates)}")
        return sites

    @property
    def webhooks_configured(self) -> bool:
        return any(site.webhooks for site in self.sites)

    @model_validator(mode="after")
    def _kafka_connection_complete(self) -> "Settings":
        """Refuse an incomplete connection (SASL without credentials, say) when the
        settings are read, not when a client first connects."""
        self.kafka  # noqa: B018 (built for its checks)
        return self

    @property
    def kafka(self) -> KafkaConnection:
        """The connection every Kafka client of footfall is made from (made afresh, so a
        copy of the settings with other brokers connects to those)."""
        return KafkaConnection(
            bootstrap=self.kafka_bootstrap,
            security_protocol=self.kafka_security_protocol,
            sasl_mechanism=self.kafka_sasl_mechanism,
            sasl_username=self.kafka_sasl_username,
            sasl_password=self.kafka_sasl_password,
            ssl_cafile=self.kafka_ssl_cafile,
            ssl_certfile=self.kafka_ssl_certfile,
            ssl_keyfile=self.kafka_ssl_keyfile,
        )

    @cached_property
    def sites_by_key(self) -> dict[str, Site]:
        return {site.write_key: site for site in self.sites}

    @property
    def clickhouse_path(self) -> Path:
        return self.state_dir / "clickhouse"

    @property
    def collector_url(self) -> str:
        return f"http://{self.collector_host}:{self.collector_port}"

    @property
    def sink_url(self) -> str:
        return f"http://127.0.0.1:{self.sink_port}"

    @property
    def kafka_port(self) -> int:
        return int(self.kafka_bootstrap.rsplit(":", 1)[1])

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, config_file()))


def config_file() -> Path | None:
    """The TOML file named by FOOTFALL_CONFIG, else ./footfall.toml if there is one."""
    named = os.environ.get(CONFIG_FILE_ENV)
    if named:
        path = Path(named)
        if not path.is_file():
            raise FileNotFoundError(f"{CONFIG_FILE_ENV} names {path}, which is not a file")
        return path
    default = Path(DEFAULT_CONFIG_FILE)
    return default if default.is_file() else None


def load() -> Settings:
    return Settings()
