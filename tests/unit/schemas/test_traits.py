"""A demographic trait's value as stored: bounded text or a finite number, whatever was sent."""

from __future__ import annotations

from schemas.traits import TRAIT_TEXT_MAX_CHARS, demographic_traits

NAMES = ("age", "gender", "income_band", "occupation", "country")


def test_values_no_persona_can_group_on_are_left_out_and_text_is_bounded() -> None:
    sent = {"age": float("nan"), "gender": {"deep": [[1] * 10]}, "income_band": True, "occupation": "x" * 10_000, "country": "  "}
    assert demographic_traits(sent, NAMES) == {"occupation": "x" * TRAIT_TEXT_MAX_CHARS}


def test_an_integer_past_any_float_is_left_out_not_a_crash() -> None:
    assert demographic_traits({"age": 10**400, "gender": "f"}, NAMES) == {"gender": "f"}


def test_traits_not_listed_or_missing_are_left_out() -> None:
    assert demographic_traits({"email": "a@b.c", "age": 34}, NAMES) == {"age": 34.0}
    assert demographic_traits(None, NAMES) == {}
