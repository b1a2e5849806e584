"""What `footfall forget` tells the processors and the sink: the keyed hashes of one
person's ids, so that a replay of records still within the topics' retention cannot bring
back what was erased, while the topic itself names nobody."""

from __future__ import annotations

import hashlib
from datetime import datetime

from pydantic import BaseModel, Field

from schemas.names import NAME_PATTERN

# A person is found by their user id and every anonymous id seen with it; a limit keeps
# one request from growing without bound (a shared device seen with thousands of ids).
MAX_IDS = 10_000


class Erasure(BaseModel):
    """One person forgotten on one site: the keyed hashes (infra.keys) of all their ids."""

    site_id: str = Field(pattern=NAME_PATTERN)
    id_hashes: list[str] = Field(min_length=1, max_length=MAX_IDS)
    requested_at: datetime

    @property
    def key(self) -> bytes:
        """One record per set of ids: compaction keeps every person's request, even of two
        people who share an id (a family's device), and collapses only a request repeated."""
        ids = hashlib.sha256("\n".join(sorted(set(self.id_hashes))).encode()).hexdigest()
        return f"{self.site_id}:{ids}".encode()
