"""A survey comment is masked like free text and bounded before it leaves the collector."""

from __future__ import annotations

from collector.comments import with_scrubbed_comment
from collector.dead_letters import WRITE_KEY_MARK, masker
from collector.personal_data import PersonalData
from schemas.surveys import COMMENT_MAX_CHARS
from schemas.wire import PageMessage, TrackMessage

KEY = b"site-key-for-tests-0123456789abcdef"
PERSONAL = PersonalData.for_site({}, lambda: KEY)
WRITE_KEY = "shop_write_key_1"
MASK = masker(PERSONAL.hashed, WRITE_KEY)


def answer(comment: object, event: str = "Survey Responded") -> TrackMessage:
    return TrackMessage.model_validate({"type": "track", "event": event, "anonymousId": "a",
                                        "properties": {"survey": "nps", "score": 2, "comment": comment}})


def test_an_email_and_an_ip_address_typed_into_a_comment_are_masked() -> None:
    scrubbed = with_scrubbed_comment(answer(f"write to jane.doe@example.com, from 86.128.12.77, key {WRITE_KEY}"), MASK)
    comment = scrubbed.properties["comment"]
    assert "jane.doe" not in comment and "hmac-sha256:" in comment
    assert "86.128.12.0" in comment and "12.77" not in comment and WRITE_KEY_MARK in comment
    assert scrubbed.properties["survey"] == "nps" and scrubbed.properties["score"] == 2


def test_a_100_kb_comment_is_cut_at_the_bound_after_masking() -> None:
    text = ("x" * 1990) + " jane@example.com " + "ы" * 100_000
    comment = with_scrubbed_comment(answer(text), MASK).properties["comment"]
    assert len(comment) == COMMENT_MAX_CHARS and "jane@" not in comment


def test_other_events_and_comments_that_are_not_text_are_left_as_they_came() -> None:
    plain = answer("Доставка опоздала, giao hàng chậm")
    assert with_scrubbed_comment(plain, MASK) is plain
    numeric = answer(12345)
    assert with_scrubbed_comment(numeric, MASK) is numeric
    other = answer("jane@example.com", event="Note Left")
    assert with_scrubbed_comment(other, MASK) is other
    page = PageMessage.model_validate({"type": "page", "anonymousId": "a", "properties": {"comment": "jane@example.com"}})
    assert with_scrubbed_comment(page, MASK) is page


def test_masking_a_long_run_of_letters_after_an_address_takes_its_length_not_its_square() -> None:
    # Unbounded, the email pattern backtracked over the whole run at every position (minutes).
    for tail in ("ж" * 200_000, "x%40" * 50_000, "a@" * 100_000):
        masked = MASK(f"write to jane.doe@example.com {tail}")
        assert "jane.doe" not in masked and masked.endswith(tail[-10:])
