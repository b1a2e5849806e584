"""What the sink keeps of a row it sets aside: bounded text, the reason, and a key that is
the same for the same row, so a replay collapses."""

from __future__ import annotations

import orjson

from sinks.rejections import CONTENT_CHARS, CUT, REASON_CHARS, REFUSED, SITE_CHARS, UNREADABLE, bounded, refused, set_aside

AT = "2026-11-25 10:00:00.250"


def test_text_within_the_bound_is_kept_whole() -> None:
    assert bounded("abc", 3) == "abc"
    assert bounded("", 0) == ""


def test_longer_text_keeps_its_head_and_tail_around_a_cut_mark_within_the_bound() -> None:
    text = "Code: 72. Cannot read: " + "x" * 10_000 + " (CANNOT_PARSE_NUMBER)"
    cut = bounded(text, 100)
    assert len(cut) == 100
    assert cut.startswith("Code: 72. Cannot read: x") and cut.endswith("x (CANNOT_PARSE_NUMBER)") and CUT in cut


def test_a_refused_row_keeps_the_row_as_json_its_site_and_clickhouses_reason() -> None:
    row = {"site_id": "shop", "event_id": "e1", "x": "abc"}
    rejection = refused("events", row, "Code: 72. Cannot read floating point value here: abc")
    assert rejection.row(AT) == {
        "site_id": "shop", "target_table": "events", "reason_class": REFUSED,
        "reason": "Code: 72. Cannot read floating point value here: abc", "source": "",
        "content": '{"site_id":"shop","event_id":"e1","x":"abc"}', "rejected_at": AT, "key": rejection.key,
    }
    assert orjson.loads(rejection.row(AT)["content"]) == row


def test_a_refused_statement_is_kept_as_its_text() -> None:
    statement = "INSERT INTO footfall.events SELECT 1"
    assert refused("events", statement, "Code: 62. Syntax error").row(AT)["content"] == statement


def test_every_kept_field_is_bounded_however_large_the_row_and_the_message() -> None:
    huge = {"site_id": "s" * 100_000, "text": "t" * 1_000_000}
    rejection = refused("events", huge, "Code: 27. Cannot parse input: " + "r" * 1_000_000)
    assert (len(rejection.content), len(rejection.reason), len(rejection.site_id)) == (CONTENT_CHARS, REASON_CHARS, SITE_CHARS)
    assert rejection.row(AT)["content"] == rejection.content


def test_the_same_rejection_has_the_same_key_and_any_difference_another() -> None:
    row = {"site_id": "shop", "event_id": "e1"}
    first = refused("events", row, "Code: 72. one message")
    assert refused("events", dict(row), "Code: 72. another message").key == first.key
    assert refused("events", {**row, "event_id": "e2"}, "Code: 72. one message").key != first.key
    assert refused("sessions", row, "Code: 72. one message").key != first.key
    # Rows that differ only where the bound on what is kept cuts are still two rows.
    long_a, long_b = (refused("events", {"text": "a" * CONTENT_CHARS + middle + "a" * CONTENT_CHARS}, "") for middle in "xy")
    assert long_a.content == long_b.content and long_a.key != long_b.key
    same_value_elsewhere = set_aside("events", UNREADABLE, "", "{}", source="footfall.sessions:0:2")
    assert set_aside("events", UNREADABLE, "", "{}", source="footfall.sessions:0:1").key != same_value_elsewhere.key
