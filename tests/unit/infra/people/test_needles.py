"""What `footfall forget` deletes from dead letters and rows set aside is what the sink
leaves out of a replay: the same text forms of an id, a JSON number under an id field
included, so that a replay brings back none of the rows an erasure deleted."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from infra.erasures import Forgotten
from infra.keys import keyed_hash
from infra.people.lookup import SEARCHED_ANYWHERE_CHARS, needles
from schemas.erasures import Erasure

KEY = b"shop-key"
TEXTS = (
    '{"userId":12345,"type":"x"}', '{"type":"x","anonymousId":12345}', '{"user_id":12345}', '{"anonymous_id":12345,"a":1}',
    '{"score":12345}', '{"userId":123456}', '{"userId":"12345"}', '{"ids":["12345"]}', '{"userId":12345', '{"userId":-1.5}',
    '{"anonymousId":"a-1","x":"a-10"}', '{"anonymousId":"a-10"}', 'text naming a-1 bare',
)


def forgotten(person_id: str) -> Forgotten:
    people = Forgotten(lambda site_id: KEY)
    erasure = Erasure(site_id="shop", id_hashes=[keyed_hash(KEY, person_id)], requested_at=datetime.now(UTC))
    people.apply(erasure.key, erasure.model_dump_json().encode())
    return people


@pytest.mark.parametrize("person_id", ["12345", "-1.5", "a-1"])
def test_forget_and_the_sink_find_a_short_id_in_the_same_texts(person_id: str) -> None:
    assert len(person_id) < SEARCHED_ANYWHERE_CHARS
    people = forgotten(person_id)
    for text in TEXTS:
        assert any(needle in text for needle in needles(person_id)) == people.names_in_text("shop", text), text


def test_a_number_id_is_found_as_the_number_it_was_sent_as() -> None:
    assert '"userId":12345,' in needles("12345") and '"anonymousId":12345}' in needles("12345")
    assert needles("a-1") == ['"a-1"'] and needles("1e") == ['"1e"']
