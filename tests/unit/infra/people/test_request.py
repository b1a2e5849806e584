"""An export or erasure request is one site and one id, nothing else, of bounded size."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from infra.people.request import MAX_ID_CHARS, ForgetRequest, PersonRequest


@pytest.mark.parametrize(
    "body",
    [
        {"site_id": "shop"},
        {"site_id": "shop", "user_id": "u", "anonymous_id": "a"},
        {"site_id": "shop", "user_id": ""},
        {"site_id": "shop", "user_id": "u" * (MAX_ID_CHARS + 1)},
        {"site_id": "shop", "user_id": 42},
        {"site_id": "shop", "user_id": ["u"]},
        {"site_id": "shop", "user_id": "u", "where": "1=1"},
        {"site_id": "shop'--", "user_id": "u"},
        {"site_id": "", "user_id": "u"},
        {"user_id": "u"},
        {"site_id": "shop", "user_id": "lone \ud800"},
    ],
)
def test_anything_but_one_site_and_one_bounded_id_is_refused(body: dict) -> None:
    with pytest.raises(ValidationError):
        PersonRequest.model_validate(body)


def test_a_hostile_id_within_the_bound_is_a_valid_request() -> None:
    request = PersonRequest.model_validate({"site_id": "shop", "anonymous_id": "a'\\\x00é"})
    assert (request.kind, request.id) == ("anonymous_id", "a'\\\x00é")
    assert request.body() == {"site_id": "shop", "anonymous_id": "a'\\\x00é"}


def test_json_bodies_are_held_to_the_same_rules() -> None:
    assert ForgetRequest.model_validate_json('{"site_id": "shop", "user_id": "u", "requested_by": "alice"}').requested_by == "alice"
    with pytest.raises(ValidationError):
        ForgetRequest.model_validate_json('{"site_id": "shop", "user_id": "u", "requested_by": "alice; rm -rf"}')
