"""Every id of one person: the user id and each anonymous id seen with it, followed both
ways until nothing new turns up (an anonymous id leads to the user id it was seen with,
that user id to their other anonymous ids), and refused past schemas.erasures.MAX_IDS."""

from __future__ import annotations

from dataclasses import dataclass

from infra.clickhouse.backend import Backend
from infra.clickhouse.literals import string_literal
from infra.people.lookup import Lookup, looked_up
from infra.people.request import PersonRequest
from schemas.erasures import MAX_IDS
from schemas.tables import DATABASE

# The tables that record an anonymous id and a user id together.
LINKING_TABLES = ("events", "sessions", "customers")


class Refused(Exception):
    """An export or erasure footfall will not carry out, with the reason for the caller."""


class TooManyIds(Refused):
    """More ids are linked to the person than one request may cover."""


@dataclass(frozen=True)
class Person:
    """One person on one site: every id of theirs, user ids and anonymous ids apart."""

    site_id: str
    user_ids: tuple[str, ...]
    anonymous_ids: tuple[str, ...]

    @property
    def ids(self) -> tuple[str, ...]:
        return (*self.user_ids, *self.anonymous_ids)


def links_sql(site_id: str, lookup: Lookup, limit: int) -> str:
    """The ids recorded together with any id found so far, each once with its kind, at most
    `limit` + 1 of them: one anonymous id sent with a million user ids is refused from the
    first rows, not after all of them were read."""
    linked = " UNION ALL ".join(
        f"SELECT anonymous_id, user_id FROM {DATABASE}.{table} WHERE site_id = {string_literal(site_id)} "
        f"AND anonymous_id != '' AND user_id != '' AND (anonymous_id IN {lookup.ids} OR user_id IN {lookup.ids})"
        for table in LINKING_TABLES
    )
    return (f"SELECT DISTINCT link.1 AS kind, link.2 AS id FROM ({linked}) "
            f"ARRAY JOIN [('user_id', user_id), ('anonymous_id', anonymous_id)] AS link LIMIT {limit + 1}")


def find_person(backend: Backend, request: PersonRequest, limit: int = MAX_IDS) -> Person:
    """The person `request` names, with every id linked to theirs (only the one given if
    footfall holds nothing of them). Raises TooManyIds past `limit` ids."""
    found: dict[str, set[str]] = {"user_id": set(), "anonymous_id": set()}
    found[request.kind].add(request.id)
    with looked_up(backend, [request.id]) as lookup:
        while True:
            links = backend.query(links_sql(request.site_id, lookup, limit))
            new = {(link["kind"], link["id"]) for link in links} - {(kind, id_) for kind, ids in found.items() for id_ in ids}
            if len(links) > limit or sum(map(len, found.values())) + len(new) > limit:
                raise TooManyIds(
                    f"more than {limit:,} ids are linked to this person (a shared device or a test account?); "
                    "nothing was exported or erased"
                )
            if not new:
                break
            for kind, id_ in new:
                found[kind].add(id_)
            lookup.add(id_ for _, id_ in new)
    return Person(request.site_id, tuple(sorted(found["user_id"])), tuple(sorted(found["anonymous_id"])))
