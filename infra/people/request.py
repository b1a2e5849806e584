"""What an export or an erasure is asked for: one site and one id of the person, validated
strictly, as they come from a command line or an HTTP body that anyone may have written."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from schemas.names import NAME_PATTERN

# As the wire models bound a message's ids: no longer id can have been stored.
MAX_ID_CHARS = 200
# An HTTP body holding one request is far smaller than this.
MAX_BODY_BYTES = 4096

IdKind = Literal["user_id", "anonymous_id"]


class PersonRequest(BaseModel):
    """A site and exactly one id of the person: their user id or an anonymous id."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    site_id: str = Field(pattern=NAME_PATTERN)
    user_id: str | None = Field(default=None, min_length=1, max_length=MAX_ID_CHARS)
    anonymous_id: str | None = Field(default=None, min_length=1, max_length=MAX_ID_CHARS)

    @model_validator(mode="after")
    def one_id(self) -> PersonRequest:
        given = [value for value in (self.user_id, self.anonymous_id) if value is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of user_id and anonymous_id")
        try:
            given[0].encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("the id is not valid Unicode text") from None
        return self

    @property
    def kind(self) -> IdKind:
        return "user_id" if self.user_id is not None else "anonymous_id"

    @property
    def id(self) -> str:
        return self.user_id if self.user_id is not None else self.anonymous_id  # type: ignore[return-value]

    def body(self) -> dict[str, str]:
        return self.model_dump(exclude_none=True)


class ForgetRequest(PersonRequest):
    """An erasure, with the operator a caller asks on behalf of (recorded in the audit)."""

    requested_by: str | None = Field(default=None, pattern=NAME_PATTERN)
