"""A survey answer's comment: what a person typed, so treated as free text always is.

People put their email address, phone number or a link into a comment, and any length of
text into the box. Before the answer leaves the collector its comment is masked as a dead
letter's text is (email addresses to their keyed hash, IP addresses anonymised, the write
key and credentials taken out) and then cut at COMMENT_MAX_CHARS, so no later stage keeps
more of it than the bound. A site that wants no comments at all lists `comment = "drop"` in
its personal data, which acts before this.
"""

from __future__ import annotations

from collections.abc import Callable

from schemas.surveys import COMMENT_MAX_CHARS, SURVEY_EVENT
from schemas.wire import Message, TrackMessage


def with_scrubbed_comment(message: Message, mask: Callable[[str], str]) -> Message:
    """The message with its survey comment masked and bounded; any other message as it is."""
    if not isinstance(message, TrackMessage) or message.event != SURVEY_EVENT:
        return message
    comment = message.properties.get("comment")
    if not isinstance(comment, str):
        return message
    # Masked first, then cut: a cut never leaves part of an address unmasked.
    scrubbed = mask(comment)[:COMMENT_MAX_CHARS]
    if scrubbed == comment:
        return message
    return message.model_copy(update={"properties": {**message.properties, "comment": scrubbed}})
