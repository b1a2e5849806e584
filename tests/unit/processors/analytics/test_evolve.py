"""The cheap copy of frozen states gives what dataclasses.replace gives."""

from __future__ import annotations

import dataclasses

import pytest

from processors.analytics.analyse import CustomerState
from processors.analytics.evolve import evolve
from processors.analytics.profiles import CustomerProfile


def test_a_copy_equals_replace_and_leaves_the_original_alone() -> None:
    state = CustomerState(CustomerProfile("shop", "anon-1", events=3), members=frozenset({"new"}), seq=4)
    copied = evolve(state, seq=5, members=frozenset())
    assert copied == dataclasses.replace(state, seq=5, members=frozenset())
    assert type(copied) is CustomerState
    assert (state.seq, state.members) == (4, frozenset({"new"}))
    with pytest.raises(dataclasses.FrozenInstanceError):
        copied.seq = 6  # type: ignore[misc]


def test_an_unknown_field_is_refused() -> None:
    with pytest.raises(TypeError, match="no field sequence"):
        evolve(CustomerState(CustomerProfile("shop", "anon-1")), sequence=1)
