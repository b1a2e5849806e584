"""Personas' pure logic: features, grouping, stable ids, names, portraits, rows and pictures."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import orjson
import pytest
from rich.console import Console

from footfall.feedback.model import Comment
from footfall.personas.features import CLIP, matrix, robust_scaled
from footfall.personas.fit import find_personas
from footfall.personas.identity import stable_ids
from footfall.personas.model import Centre, CustomerFacts, PersonaSettings, Personas
from footfall.personas.naming import distinguishing, persona_name
from footfall.personas.picture import draw
from footfall.personas.portrait import net_promoter
from footfall.personas.problems import SiteThemes
from footfall.personas.rows import assignment_rows, persona_rows
from footfall.personas.tables import personas_tables

AT = datetime(2026, 11, 30, 12, tzinfo=UTC)


def big_spender(n: int, rng: random.Random, **changes: object) -> CustomerFacts:
    facts = {
        "customer_id": f"spender-{n:03d}", "purchases": rng.randint(4, 7), "revenue": rng.uniform(400, 700),
        "clv_historical": 500.0, "clv_predicted": rng.uniform(300, 400), "nps": rng.choice((9, 10)), "sessions": 10,
        "converting_sessions": rng.randint(4, 6), "device": "mobile", "country": "DE", "channel": "facebook / paid_social",
        "traits": {"age": rng.randint(24, 32), "gender": "female", "occupation": "engineer"}, "pages": ("/shoes", "/cart"),
    }
    return CustomerFacts(**{**facts, **changes})  # type: ignore[arg-type]


def browser(n: int, rng: random.Random, **changes: object) -> CustomerFacts:
    facts = {
        "customer_id": f"browser-{n:03d}", "purchases": rng.choice((0, 0, 1)), "revenue": rng.uniform(0, 30),
        "clv_historical": 10.0, "nps": rng.choice((2, 4, None)), "sessions": rng.randint(1, 3), "converting_sessions": 0,
        "device": "desktop", "country": "GB", "channel": "google / organic",
        "traits": {"age": rng.randint(58, 70), "gender": "male", "income_band": "<25k"}, "pages": ("/blog", "/about"),
    }
    return CustomerFacts(**{**facts, **changes})  # type: ignore[arg-type]


def two_groups(seed: int = 1, spenders: int = 30, browsers: int = 40) -> list[CustomerFacts]:
    rng = random.Random(seed)
    return [big_spender(n, rng) for n in range(spenders)] + [browser(n, rng) for n in range(browsers)]


def groups_of(found: Personas) -> set[frozenset[str]]:
    return {frozenset(persona.members) for persona in found.personas}


def by_members(found: Personas) -> dict[frozenset[str], int]:
    return {frozenset(persona.members): persona.persona_id for persona in found.personas}


# Grouping.

def test_two_clearly_different_groups_are_recovered_and_the_count_is_chosen_by_silhouette() -> None:
    customers = two_groups()
    found = find_personas(customers)
    spenders = frozenset(c.customer_id for c in customers if c.customer_id.startswith("spender"))
    assert groups_of(found) == {spenders, frozenset(c.customer_id for c in customers) - spenders}
    assert found.criterion.startswith("2 personas: the best silhouette")
    assert found.customers == 70


def test_three_groups_are_recovered() -> None:
    rng = random.Random(3)
    loyal = [big_spender(n, rng, customer_id=f"loyal-{n}", device="tablet", channel="newsletter / email", country="FR",
                         traits={"age": rng.randint(40, 45), "gender": "non-binary"}) for n in range(25)]
    customers = two_groups(spenders=25, browsers=25) + loyal
    found = find_personas(customers, PersonaSettings(min_personas=2, max_personas=5))
    assert len(found.personas) == 3
    assert frozenset(c.customer_id for c in loyal) in groups_of(found)


def test_the_same_customers_in_any_order_give_the_same_personas() -> None:
    customers = two_groups()
    shuffled = customers[:]
    random.Random(9).shuffle(shuffled)
    first, second = find_personas(customers), find_personas(shuffled)
    assert [(p.persona_id, p.name, p.members) for p in first.personas] == [(p.persona_id, p.name, p.members) for p in second.personas]


# Stable ids.

def test_ids_are_kept_across_a_refit_of_shuffled_and_grown_customers() -> None:
    first = find_personas(two_groups(seed=1))
    # The previous fit's ids are not 1 and 2 and arrive in another order, as a stored fit might.
    renumbered = {persona.persona_id: 10 * persona.persona_id + 7 for persona in first.personas}
    previous = [Centre(renumbered[p.persona_id], p.centre.features, p.centre.centroid) for p in reversed(first.personas)]
    grown = two_groups(seed=2, spenders=45, browsers=20)
    random.Random(4).shuffle(grown)
    second = find_personas(grown, previous=previous)
    first_ids = {next(iter(members)).split("-")[0]: renumbered[pid] for members, pid in by_members(first).items()}
    second_ids = {next(iter(members)).split("-")[0]: pid for members, pid in by_members(second).items()}
    assert second_ids == first_ids
    # The larger group now is the spenders: sizes changed, ids did not follow them.
    assert second.personas[0].members[0].startswith("spender")


def test_a_new_group_takes_an_id_the_previous_fit_never_used() -> None:
    centroids = np.array([[0.0, 0.0], [5.0, 5.0], [-5.0, 5.0]])
    previous = [Centre(4, ("x", "y"), (5.1, 4.9)), Centre(2, ("x", "y"), (0.1, 0.0))]
    assert stable_ids(centroids, ("x", "y"), [10, 5, 7], previous) == [2, 4, 5]


def test_ids_match_across_fits_whose_features_differ() -> None:
    # The previous fit had a category this one lacks and lacked one it has: both count as typical (0).
    previous = [Centre(1, ("spend", "device=tablet"), (2.0, 1.0)), Centre(2, ("spend", "device=tablet"), (-2.0, 0.0))]
    centroids = np.array([[-1.8, 0.9], [2.1, 0.0]])
    assert stable_ids(centroids, ("spend", "device=mobile"), [1, 1], previous) == [2, 1]


def test_a_first_fit_numbers_its_personas_largest_first() -> None:
    assert stable_ids(np.zeros((3, 1)), ("x",), [2, 9, 5], []) == [3, 1, 2]


# Names.

def test_names_come_from_what_sets_each_persona_apart() -> None:
    found = find_personas(two_groups(), PersonaSettings(name_features=5))
    names = {persona.members[0].split("-")[0]: persona.name for persona in found.personas}
    assert names["spender"].startswith("mobile") and "buyers" in names["spender"]
    assert "from facebook / paid_social" in names["spender"]
    assert names["browser"].startswith("desktop") and "browsers" in names["browser"]
    assert "from google / organic" in names["browser"]
    assert names["spender"] != names["browser"]


def test_a_name_reads_categories_before_the_noun_and_numbers_last() -> None:
    picked = [("spend", 1.4), ("device=mobile", 0.5), ("channel=facebook / paid_social", 0.6), ("trait:age", -1.0),
              ("trait:income_band=25-50k", 0.4)]
    assert persona_name(picked, True, {"age": 27.0}) == "mobile income band 25-50k buyers from facebook / paid_social, high spend, age ~27"
    assert persona_name([("basket", -0.9)], False, {}) == "browsers, low basket"
    assert persona_name([], True, {}) == "all customers"


def test_a_category_needs_a_majority_and_a_number_half_a_spread() -> None:
    columns = ("device=mobile", "country=DE", "spend", "visits")
    picked = distinguishing(columns, [0.45, 0.9, 0.3, -0.8], [0.1, 0.5, 0.0, 0.0], 5)
    assert picked == [("country=DE", pytest.approx(0.4)), ("visits", -0.8)]


# Hostile inputs.

def test_no_customers_give_no_personas() -> None:
    found = find_personas([])
    assert (found.personas, found.customers, found.criterion) == ((), 0, "no customers")


def test_one_customer_is_one_persona_of_everyone() -> None:
    found = find_personas([big_spender(1, random.Random(1))])
    assert [(p.persona_id, p.name, p.portrait.customer_share, p.portrait.revenue_share) for p in found.personas] == [
        (1, "all customers", 1.0, 1.0)]
    assert found.criterion.startswith("one persona: 1 distinct customer")


def test_identical_customers_are_one_persona() -> None:
    same = [CustomerFacts(f"c{n}", purchases=1, revenue=10.0, device="mobile") for n in range(50)]
    found = find_personas(same)
    assert len(found.personas) == 1 and found.personas[0].portrait.customers == 50


def test_a_customer_listed_twice_counts_once() -> None:
    rng = random.Random(1)
    found = find_personas([big_spender(1, rng), big_spender(1, rng)])
    assert found.customers == 1


def test_missing_traits_and_facts_are_grouped_without_them() -> None:
    customers = [CustomerFacts(f"bare-{n}") for n in range(5)] + two_groups(spenders=20, browsers=20)
    found = find_personas(customers)
    assert sum(p.portrait.customers for p in found.personas) == 45
    assert all(math.isfinite(value) for p in found.personas for value in p.centre.centroid)


def test_absurd_values_neither_break_the_fit_nor_form_a_persona_of_their_own() -> None:
    rng = random.Random(5)
    customers = two_groups()
    customers[0] = big_spender(0, rng, traits={"age": 10**9, "gender": "female"}, revenue=float("inf"))
    customers[1] = big_spender(1, rng, revenue=-5e12, purchases=-3, sessions=-1, converting_sessions=-7, clv_predicted=float("nan"))
    customers[-1] = browser(99, rng, traits={"age": -10**9, "gender": "x" * 64})
    found = find_personas(customers)
    assert len(found.personas) == 2
    for persona in found.personas:
        drawn = persona.portrait
        assert 0 <= drawn.revenue_share <= 1 and 0 <= drawn.customer_share <= 1
        assert drawn.clv_predicted is None or math.isfinite(drawn.clv_predicted)
        assert all(abs(value) <= CLIP for value in persona.centre.centroid)
    spenders = next(p for p in found.personas if p.members[0].startswith("spender"))
    assert 20 <= spenders.portrait.demographics["age"] <= 40  # the median shrugs off 10^9


def test_a_numeric_column_is_clipped_and_one_that_tells_no_one_apart_is_left_out() -> None:
    scaled = robust_scaled([1.0, 2.0, 3.0, 4.0, 1e12, None])
    assert scaled is not None and scaled.max() == CLIP and scaled[-1] == pytest.approx(scaled[2])
    assert robust_scaled([5.0, 5.0, None]) is None and robust_scaled([None, None]) is None
    features = matrix([CustomerFacts("a", device="mobile"), CustomerFacts("b", device="mobile")])
    assert features.columns == ()


def test_settings_refuse_a_range_below_two_and_a_share_no_split_could_meet() -> None:
    with pytest.raises(ValueError, match="from 2 up"):
        PersonaSettings(min_personas=1)
    with pytest.raises(ValueError):
        PersonaSettings(min_personas=5, max_personas=3)
    with pytest.raises(ValueError, match="smallest share"):
        PersonaSettings(max_personas=4, min_share=0.25)


def test_a_few_outliers_are_no_persona_of_their_own() -> None:
    rng = random.Random(2)
    whales = [big_spender(n, rng, customer_id=f"whale-{n}", revenue=1e7, purchases=500, device="tv") for n in range(2)]
    found = find_personas(two_groups(spenders=30, browsers=30) + whales)
    assert len(found.personas) == 2 and "each of 7+ customers" in found.criterion


def test_a_spread_below_the_floor_tells_no_one_apart() -> None:
    # Conversion of 10 in 30 sessions against 11 in 30: too small a difference for a persona,
    # though nearly everyone converts alike and the spread is tiny.
    rng = random.Random(7)
    alike = [CustomerFacts(f"c{n}", purchases=1, revenue=rng.uniform(15, 25), sessions=30, converting_sessions=11 if n < 8 else 10,
                           device="desktop" if n % 2 else "mobile") for n in range(40)]
    scaled = robust_scaled([1 / 3] * 32 + [11 / 30] * 8, 0.1)
    assert scaled is not None and scaled.max() == pytest.approx((11 / 30 - 1 / 3) / 0.1)
    found = find_personas(alike)
    assert {frozenset(p.members) for p in found.personas} == {
        frozenset(f"c{n}" for n in range(40) if n % 2), frozenset(f"c{n}" for n in range(40) if not n % 2)}


# Portraits and problems.

def test_the_portrait_holds_the_members_figures() -> None:
    rng = random.Random(1)
    members = [big_spender(n, rng, purchases=2, revenue=100.0, sessions=4, converting_sessions=1, nps=score)
               for n, score in enumerate((10, 9, 3, None))]
    found = find_personas(members + [browser(n, rng, revenue=0.0, purchases=0) for n in (8, 9)])
    spenders = next(p for p in found.personas if p.members[0].startswith("spender"))
    drawn = spenders.portrait
    assert (drawn.customers, drawn.aov, drawn.purchase_frequency, drawn.conversion) == (4, 50.0, 2.0, 0.25)
    assert drawn.nps == pytest.approx(100 * (2 - 1) / 3) and drawn.nps_answers == 3
    assert drawn.revenue_share == 1.0 and drawn.customer_share == pytest.approx(4 / 6)
    assert [(s.value, s.share) for s in drawn.devices] == [("mobile", 1.0)]
    assert [(s.value, s.share) for s in drawn.demographics["gender"]] == [("female", 1.0)]
    assert {s.value for s in drawn.top_pages} == {"/shoes", "/cart"}


def test_net_promoter_score() -> None:
    assert net_promoter([]) is None
    assert net_promoter([10, 9, 8, 0]) == 25.0


def test_problems_are_the_site_themes_the_members_raise_most_detractors_first() -> None:
    def said(text: str, score: int, n: int) -> Comment:
        return Comment(text, "nps", score, AT.replace(minute=n))

    rng = random.Random(1)
    late = [big_spender(n, rng, comments=(said("delivery was late again", 2, n), said("great prices and quality", 10, n)))
            for n in range(6)]
    happy = [browser(n, rng, comments=(said("great quality for the price", 9, n),)) for n in range(6)]
    themes = SiteThemes(late + happy)
    spenders = themes.problems([comment for facts in late for comment in facts.comments], 3)
    assert [(problem.comments, problem.detractors) for problem in spenders] == [(6, 6), (6, 0)]
    assert "delivery" in " ".join(spenders[0].key_words) and "great" in " ".join(spenders[1].key_words)
    assert themes.problems([comment for facts in happy for comment in facts.comments], 3)[0].detractors == 0
    # A comment that is not one of the customers' own falls in no theme.
    assert themes.problems([said("delivery was late again", 2, 0)], 3) == ()
    assert SiteThemes([browser(1, rng)]).problems([], 3) == ()


# Rows, tables and the picture.

def test_rows_carry_every_persona_and_each_customer_once() -> None:
    found = find_personas(two_groups())
    personas, customers = persona_rows("shop", found, AT), assignment_rows("shop", found, AT)
    assert [row["persona_id"] for row in personas] == [p.persona_id for p in found.personas]
    assert sorted(row["customer_id"] for row in customers) == sorted(c.customer_id for c in two_groups())
    assert {row["fitted_at"] for row in personas + customers} == {"2026-11-30 12:00:00.000"}
    portrait = orjson.loads(personas[0]["portrait"])
    assert set(portrait) == {"nps_answers", "demographics", "countries", "devices", "channels", "top_pages", "problems"}


def test_the_tables_show_each_persona_as_text(tmp_path: Path) -> None:
    customers = two_groups()
    customers[0] = big_spender(0, random.Random(1), traits={"gender": "[bold red]female[/bold red]"})
    rows = persona_rows("shop", find_personas(customers), AT)
    console = Console(width=250, record=True)
    with console.capture() as captured:
        console.print(personas_tables("shop", rows))
    text = captured.get()
    assert "Personas of shop" in text and rows[0]["name"] in text and "[bold red]" in text
    picture = draw("shop", rows, tmp_path / "personas.png")
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
