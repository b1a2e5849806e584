"""User paths without an engine: the options refused, the rows of the tables, and the
geometry of the Sankey picture, from links shaped as the links query returns them."""

from __future__ import annotations

import pytest

from footfall.reports import path_tables
from footfall.reports.paths import MAX_PAGE_CHARS, Direction, Link, PathAsk, Paths, Walk, ask, cut
from footfall.reports.sankey import GAP, Kind, layout


def test_exactly_one_of_from_and_to_is_asked_for() -> None:
    assert ask("/pricing", None, 3) == PathAsk(Direction.from_, "/pricing", 3)
    assert ask(None, "/checkout", 2) == PathAsk(Direction.to, "/checkout", 2)
    for start, goal in ((None, None), ("/a", "/b")):
        with pytest.raises(ValueError, match="exactly one of --from PATH and --to PATH"):
            ask(start, goal, 3)


@pytest.mark.parametrize("steps", [0, -1, 11, 10**9])
def test_steps_are_bounded(steps: int) -> None:
    with pytest.raises(ValueError, match="--steps takes 1 to 10"):
        ask("/", None, steps)


def test_the_anchor_page_is_bounded_and_needed_only_with_a_direction() -> None:
    with pytest.raises(ValueError, match=f"1 to {MAX_PAGE_CHARS} characters"):
        ask("/" * (MAX_PAGE_CHARS + 1), None, 3)
    with pytest.raises(ValueError, match="1 to"):
        ask("", None, 3)
    with pytest.raises(ValueError, match="only then"):
        PathAsk(Direction.entry, "/", 3)


def test_a_hostile_anchor_is_one_quoted_literal() -> None:
    sql = cut(PathAsk(Direction.from_, "/x') OR 1 = 1 --\\", 2))
    assert "indexOf(pages, '/x\\') OR 1 = 1 --\\\\')" in sql


FROM_HOME = Paths(
    ask=PathAsk(Direction.from_, "/", 2),
    sessions=10,
    walks=(Walk(("/", "/a", "/b"), 4), Walk(("/",), 3), Walk(("/", "/a"), 2), Walk(("/", "/c", "/b"), 1)),
    links=(
        Link(1, "/", "/a", False, 6), Link(1, "/", None, False, 1), Link(1, "/", None, True, 3),
        Link(2, "/a", "/b", False, 4), Link(2, "/a", None, True, 2), Link(2, None, "/b", False, 1),
    ),
)


def test_each_step_counts_its_sessions_and_those_that_ended_there() -> None:
    assert FROM_HOME.reached() == [10, 7, 5]
    assert FROM_HOME.ended() == [3, 2]
    assert path_tables.step_rows(FROM_HOME) == [
        ["start", "10", "100.0%", "3", "30.0%"],
        ["+1", "7", "70.0%", "2", "28.6%"],
        ["+2", "5", "50.0%", "–", "–"],
    ]


def test_sequences_read_in_time_order_and_say_where_they_stopped() -> None:
    assert path_tables.sequence_rows(FROM_HOME) == [
        ["/ → /a → /b", "4", "40.0%"], ["/ (ended)", "3", "30.0%"], ["/ → /a (ended)", "2", "20.0%"], ["/ → /c → /b", "1", "10.0%"],
    ]
    before = PathAsk(Direction.to, "/checkout", 2)
    assert path_tables.walk_text(Walk(("/checkout", "/cart"), 5), before) == "(began) /cart → /checkout"
    assert path_tables.walk_text(Walk(("/checkout", "/cart", "/"), 5), before) == "/ → /cart → /checkout"
    assert path_tables.step_columns(before)[3:] == ("began here", "began of step")
    assert path_tables.step_label(before, 2) == "-2"


def test_long_paths_are_cut_for_display_only() -> None:
    long = "/" + "é" * 100
    assert path_tables.clip(long) == long[:47] + "…"
    assert len(path_tables.clip(long)) == path_tables.SHOWN_PAGE
    assert path_tables.clip("/short") == "/short"


def test_entry_pages_with_their_endings_and_commonest_next_page() -> None:
    links = (
        Link(1, "/", "/a", False, 5), Link(1, "/", "/b", False, 7), Link(1, "/", None, True, 4), Link(1, "/", None, False, 9),
        Link(1, "/blog", None, True, 2), Link(1, None, "/a", False, 30), Link(2, "/a", "/b", False, 5),
        Link(1, "/z", "/a", False, 1),
    )
    # Other pages (None) are neither an entry page nor a next page to name.
    assert path_tables.entry_rows(links, 2) == [["/", "25", "4 (16.0%)", "/b", "7"], ["/blog", "2", "2 (100.0%)", "–", "–"]]


def test_where_visitors_went_instead_rows() -> None:
    rows = [{"step": 1, "next": "/faq", "visitors": 3, "stopped": 4}, {"step": 1, "next": None, "visitors": 1, "stopped": 4}]
    assert path_tables.instead_rows(rows) == [["1", "/faq", "3", "75.0%"], ["1", "(session ended)", "1", "25.0%"]]


def test_boxes_are_as_tall_as_their_sessions_and_columns_fit() -> None:
    picture = layout(FROM_HOME)
    assert picture.columns == 3
    boxes = {(box.x, box.label): box for box in picture.boxes}
    assert {key: box.sessions for key, box in boxes.items()} == {
        (0, "/"): 10, (1, "/a"): 6, (1, "other pages"): 1, (1, "ended"): 3, (2, "/b"): 5, (2, "ended"): 2,
    }
    scale = (1 - GAP * 2) / 10  # the tallest column has three boxes
    for box in picture.boxes:
        assert box.bottom - box.top == pytest.approx(box.sessions * scale)
        assert 0 <= box.top < box.bottom <= 1 + 1e-9
    # Top to bottom: pages by sessions, other pages, then the sessions that ended.
    assert [box.kind for box in picture.boxes if box.x == 1] == [Kind.page, Kind.other, Kind.stopped]
    assert boxes[(1, "other pages")].top == pytest.approx(boxes[(1, "/a")].bottom + GAP)


def test_bands_are_as_wide_at_both_ends_and_fill_their_boxes() -> None:
    picture = layout(FROM_HOME)
    assert sorted(band.sessions for band in picture.bands) == [1, 1, 2, 3, 4, 6]
    for band in picture.bands:
        assert band.source_bottom - band.source_top == pytest.approx(band.target_bottom - band.target_top)
        source, target = picture.boxes[band.source], picture.boxes[band.target]
        assert target.x == source.x + 1
        assert source.top - 1e-9 <= band.source_top < band.source_bottom <= source.bottom + 1e-9
        assert target.top - 1e-9 <= band.target_top < band.target_bottom <= target.bottom + 1e-9
    for index, box in enumerate(picture.boxes):
        leaving = [band for band in picture.bands if band.source == index]
        if leaving:
            assert sum(b.source_bottom - b.source_top for b in leaving) == pytest.approx(box.bottom - box.top)
            # one after another, without overlap
            edges = sorted((b.source_top, b.source_bottom) for b in leaving)
            assert all(a[1] == pytest.approx(b[0]) for a, b in zip(edges, edges[1:]))


def test_before_a_goal_the_columns_run_towards_it() -> None:
    to_goal = Paths(
        ask=PathAsk(Direction.to, "/checkout", 1), sessions=3, walks=(),
        links=(Link(1, "/checkout", "/cart", False, 2), Link(1, "/checkout", None, True, 1)),
    )
    picture = layout(to_goal, "began here")
    assert {(box.x, box.label, box.sessions) for box in picture.boxes} == {(1, "/checkout", 3), (0, "/cart", 2), (0, "began here", 1)}
    assert all(picture.boxes[band.target].x == 0 for band in picture.bands)


def test_no_sessions_make_an_empty_picture() -> None:
    empty = Paths(PathAsk(Direction.from_, "/", 3), 0, (), ())
    assert layout(empty).boxes == ()
    assert path_tables.step_rows(empty)[0] == ["start", "0", "–", "0", "–"]
