"""Exports and erasures through one ClickHouse backend: what the sink's HTTP port and a
command run alike, so the two cannot differ in what they find, export or delete."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

from infra.clickhouse.backend import Backend
from infra.config import Settings
from infra.keys import keyed_hash, site_key
from infra.people.erasing import Erased, erase
from infra.people.export import export_lines
from infra.people.finding import Refused, find_person
from infra.people.publish import publish_erasure
from infra.people.request import PersonRequest
from schemas.erasures import Erasure


def utc_now() -> datetime:
    return datetime.now(UTC)


class People:
    """One person's data in the tables `backend` reaches, with the settings' keys and Kafka."""

    def __init__(
        self,
        backend: Backend,
        settings: Settings,
        publish: Callable[[Settings, Erasure], None] = publish_erasure,
        clock: Callable[[], datetime] = utc_now,
    ):
        self.backend = backend
        self.settings = settings
        self._publish = publish
        self._clock = clock

    def _single_node(self) -> None:
        """The person's ids reach the statements through a Memory table of the node spoken
        to: on a cluster the other shards would find none and match nothing, silently."""
        if self.settings.clickhouse_cluster:
            raise Refused(
                f"export and erasure do not run against the ClickHouse cluster {self.settings.clickhouse_cluster!r} yet: "
                "the person's ids would reach one node only, and the other shards would keep their rows"
            )

    def export(self, request: PersonRequest) -> Iterator[bytes]:
        """The export document of the person `request` names, line by line."""
        self._single_node()
        person = find_person(self.backend, request)
        return export_lines(self.backend, person, self._clock())

    def forget(self, request: PersonRequest, requested_by: str, on_step: Callable[[str], None] = lambda step: None) -> Erased:
        """Publish the erasure record (refused, with nothing deleted, if Kafka does not
        acknowledge it), then erase every row of theirs and record the audit row."""
        self._single_node()
        person = find_person(self.backend, request)
        key = site_key(self.settings, request.site_id)
        erasure = Erasure(site_id=request.site_id, id_hashes=sorted({keyed_hash(key, i) for i in person.ids}), requested_at=self._clock())
        on_step("publishing the erasure record")
        self._publish(self.settings, erasure)
        return erase(self.backend, person, erasure, requested_by, on_step)
