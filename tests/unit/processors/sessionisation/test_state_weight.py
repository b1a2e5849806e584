"""A visitor state's running weight, kept as hits come and sessions leave, is always what
weighing the whole state gives, whatever the order, copies and sizes of its events, and
a state recovered from the changelog is weighed whole once."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from processors.runtime.visitor_codec import dump, load
from processors.sessionisation.sessions import FORGOTTEN_LIMIT, Rules, VisitorState, apply, state_bytes

MIN = 60_000
T0 = 1_800_000_000_000
# Short gaps, so sessions leave the state within a few dozen events.
RULES = Rules(gap_ms=5 * MIN, lateness_ms=MIN)
TEXT = st.text(alphabet=st.sampled_from("aé€𝄞/-_ "), max_size=40)

events = st.fixed_dictionaries(
    {
        "event_id": st.integers(0, 60).map(lambda n: f"e{n}"),  # repeats are copies of earlier events
        "type": st.sampled_from(["page_view", "click", "purchase", "track"]),
        "path": st.none() | TEXT,
        "referrer": st.none() | st.sampled_from(["https://www.google.com/search?q=1", "https://exämple.org/", ""]),
        "utm_source": st.none() | st.sampled_from(["news", "ads"]),
        "utm_campaign": st.none() | TEXT,
        "revenue": st.none() | st.floats(0, 100),
    }
)
timed = st.tuples(events, st.integers(0, 120).map(lambda minute: T0 + minute * MIN))


def placed(sequence: list[tuple[dict, int]], state: VisitorState | None = None) -> list[VisitorState]:
    """The state after each event, in turn."""
    state = state or VisitorState("demo", "a")
    states = []
    for payload, ts_ms in sequence:
        state, _ = apply(state, payload, ts_ms, RULES)
        states.append(state)
    return states


@settings(max_examples=300, deadline=None)
@given(st.lists(timed, max_size=80))
def test_the_running_weight_is_the_weighed_weight_after_every_event(sequence: list[tuple[dict, int]]) -> None:
    for state in placed(sequence):
        assert state.weight == state_bytes(state)


@settings(max_examples=100, deadline=None)
@given(st.lists(timed, min_size=1, max_size=40), st.lists(timed, max_size=40))
def test_a_recovered_state_weighs_what_it_weighed_and_goes_on_the_same(first: list, then: list) -> None:
    saved = placed(first)[-1]
    recovered = load(dump(saved))
    assert recovered.weight == saved.weight == state_bytes(saved)
    assert [s.weight for s in placed(then, recovered)] == [s.weight for s in placed(then, saved)]


def test_the_weight_holds_when_the_forgotten_ids_reach_their_bound() -> None:
    rng = random.Random(13)
    sequence, minute = [], 0.0
    for n in range(4 * FORGOTTEN_LIMIT):
        minute += rng.choice([0.5, 1, 2, 7])  # now and then a gap that closes the session
        late = rng.random() < 0.1
        sequence.append(({"event_id": f"e{n}-{'x' * rng.randrange(30)}", "type": "page_view", "path": "/p" * rng.randrange(20)},
                         T0 + int((minute - (3 if late else 0)) * MIN)))
    states = placed(sequence)
    assert len(states[-1].forgotten) == FORGOTTEN_LIMIT
    assert all(state.weight == state_bytes(state) for state in states)
