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


def links_sql(site_id: str, lookup: Lookup) -> str:
    """The (anonymous id, user id) pairs recorded with any id found so far."""
    linked = " UNION ALL ".join(
        f"SELECT anonymous_id, user_id FROM {DATABASE}.{table} WHERE site_id = {string_literal(site_id)} "
        f"AND anonymous_id != '' AND user_id != '' AND (anonymous_id IN {lookup.ids} OR user_id IN {lookup.ids})"
        for table in LINKING_TABLES
    )
    return f"SELECT DISTINCT anonymous_id, user_id FROM ({linked})"


def find_person(backend: Backend, request: PersonRequest, limit: int = MAX_IDS) -> Person:
    """The person `request` names, with every id linked to theirs (only the one given if
    footfall holds nothing of them). Raises TooManyIds past `limit` ids."""
    users = {request.id} if request.kind == "user_id" else set()
    anonymous = {request.id} if request.kind == "anonymous_id" else set()
    with looked_up(backend, [request.id]) as lookup:
        while True:
            pairs = backend.query(links_sql(request.site_id, lookup))
            new_users = {pair["user_id"] for pair in pairs} - users
            new_anonymous = {pair["anonymous_id"] for pair in pairs} - anonymous
            if not new_users and not new_anonymous:
                break
            users |= new_users
            anonymous |= new_anonymous
            if len(users) + len(anonymous) > limit:
                raise TooManyIds(
                    f"more than {limit:,} ids are linked to this person (a shared device or a test account?); "
                    "nothing was exported or erased"
                )
            lookup.add(new_users | new_anonymous)
    return Person(request.site_id, tuple(sorted(users)), tuple(sorted(anonymous)))
