"""`footfall personas`, the report's Personas section and a person's persona and traits
exported and forgotten, through the real pipeline: two clearly different groups of
customers identify themselves with demographic traits, browse, buy and answer a survey
(HTTP → Kafka → Faust → sink → ClickHouse), and the command finds them as two personas."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import orjson
import pytest

from tests.support.pipeline import Pipeline, configured_pipeline
from tests.support.waiting import wait_for

SITE, KEY = "atelier", "atelier_key"
# The site stores three demographic traits; the email and income band it is sent are not stored.
CONFIG = f'[[sites]]\nid = "{SITE}"\nwrite_key = "{KEY}"\ndemographic_traits = ["age", "gender", "occupation"]\n'
IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
          "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1")
WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
PER_GROUP = 12
# Young women on phones from paid social who buy often and much and like it; older men on
# desktops from search who buy once, little, and complain about the checkout.
GROUPS = {
    "spender": {"agent": IPHONE, "campaign": {"source": "facebook", "medium": "paid_social", "name": "spring"},
                "traits": lambda n: {"age": 24 + n % 6, "gender": "female", "occupation": "engineer"},
                "orders": 5, "spend": 240.0, "pages": ("/shoes", "/new-in"), "score": 10,
                "comments": ("Love the new collection, great quality", "Great quality shoes, love them",
                             "The new collection is great", "Love the quality of the new shoes")},
    "bargain": {"agent": WINDOWS, "campaign": {"source": "google", "medium": "organic"},
                "traits": lambda n: {"age": 61 + n % 8, "gender": "male", "occupation": "retired"},
                "orders": 1, "spend": 15.0, "pages": ("/sale", "/returns"), "score": 2,
                "comments": ("Checkout payment failed twice", "The checkout is broken, payment failed",
                             "Payment failed at checkout again", "Checkout broken, could not pay")},
}


def customer_messages(group: str, n: int, run: str, now: datetime) -> list[dict]:
    spec = GROUPS[group]
    visitor, user = f"{group}-{n}-{run}", f"{group}-user-{n}-{run}"
    context = {"userAgent": spec["agent"], "campaign": spec["campaign"]}
    sent: list[dict] = []

    def add(moment: datetime, **message: object) -> None:
        sent.append({"messageId": f"{visitor}-{len(sent)}", "anonymousId": visitor, "timestamp": moment.isoformat(),
                     "context": context, **message})

    for order in range(spec["orders"]):
        start = now - timedelta(days=3 * order + 1, hours=n)
        for step, path in enumerate(spec["pages"]):
            add(start + timedelta(minutes=step), type="page", properties={"path": path, "url": f"https://atelier.example{path}"})
        add(start + timedelta(minutes=5), type="track", event="Order Completed", userId=user,
            properties={"order_id": f"{visitor}-o{order}", "revenue": spec["spend"], "currency": "EUR"})
    traits = {**spec["traits"](n), "email": f"{user}@example.com", "income_band": "50-100k"}
    add(now - timedelta(days=1, minutes=30), type="identify", userId=user, traits=traits)
    add(now - timedelta(days=1), type="track", event="Survey Responded", userId=user,
        properties={"survey": "nps", "score": spec["score"], "comment": spec["comments"][n % len(spec["comments"])]})
    return sent


def counted(pipeline: Pipeline, sql: str) -> int:
    return pipeline.query(sql)[0]["n"]


@pytest.fixture(scope="module")
def landed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Pipeline, Path, str]]:
    with configured_pipeline(tmp_path_factory.mktemp("personas"), CONFIG) as (pipeline, config):
        run = uuid.uuid4().hex[:8]
        now = datetime.now(UTC).replace(microsecond=0)
        sent = [message for group in GROUPS for n in range(PER_GROUP) for message in customer_messages(group, n, run, now)]
        answer = httpx.post(f"{pipeline.collector.url}/v1/batch", json={"batch": sent}, auth=(KEY, ""), timeout=120)
        assert answer.status_code == 200 and answer.json() == {"success": True}, answer.text
        customers = 2 * PER_GROUP
        wait_for(lambda: counted(pipeline, f"SELECT count() AS n FROM footfall.events FINAL WHERE site_id = '{SITE}'") == len(sent),
                 180, "every event in ClickHouse")
        wait_for(lambda: counted(pipeline, f"SELECT count() AS n FROM footfall.customers FINAL WHERE site_id = '{SITE}' "
                                           "AND purchases > 0 AND nps IS NOT NULL AND user_id != ''") == customers,
                 180, "every customer's row with their purchases and answer")
        yield pipeline, config, run


def footfall(pipeline: Pipeline, config: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, **pipeline.env, "FOOTFALL_CONFIG": str(config), "COLUMNS": "250"}
    return subprocess.run([sys.executable, "-m", "footfall.cli", *args], env=env, capture_output=True, text=True, timeout=300)


def personas_of_customers(pipeline: Pipeline) -> dict[str, set[int]]:
    """Each group's personas, as the customer rows carry them; every customer placed, and
    placed as the latest fit's stored assignments say."""
    rows = pipeline.query(f"SELECT customer_id, persona_id FROM footfall.customers FINAL WHERE site_id = '{SITE}'")
    stored = pipeline.query(f"SELECT customer_id, persona_id FROM footfall.customer_personas FINAL WHERE site_id = '{SITE}'")
    assert {row["customer_id"]: row["persona_id"] for row in rows} == {row["customer_id"]: row["persona_id"] for row in stored}
    found: dict[str, set[int]] = {}
    for row in rows:
        found.setdefault(row["customer_id"].split("-")[0], set()).add(row["persona_id"])
    return found


def latest_personas(pipeline: Pipeline) -> list[dict]:
    return pipeline.query(f"SELECT persona_id, name, customers, revenue_share, portrait FROM footfall.personas FINAL "
                          f"WHERE site_id = '{SITE}' AND fitted_at = (SELECT max(fitted_at) FROM footfall.personas) ORDER BY persona_id")


def test_only_the_listed_traits_are_stored_and_bounded(landed) -> None:
    pipeline, _, run = landed
    rows = pipeline.query(f"SELECT traits FROM footfall.events FINAL WHERE site_id = '{SITE}' AND type = 'identify'")
    assert len(rows) == 2 * PER_GROUP
    traits = [orjson.loads(row["traits"]) for row in rows]
    assert all(set(found) == {"age", "gender", "occupation"} for found in traits), traits
    assert counted(pipeline, "SELECT count() AS n FROM footfall.events WHERE position(traits, 'example.com') > 0") == 0


def test_personas_find_the_two_groups_name_and_portray_them_and_keep_their_ids(landed, tmp_path: Path) -> None:
    pipeline, config, _ = landed
    picture = tmp_path / "personas.png"
    shown = footfall(pipeline, config, "personas", "--site", SITE, "--out", str(picture))
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert f"Personas of {SITE}" in shown.stdout and "silhouette" in shown.stdout
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assigned = personas_of_customers(pipeline)
    assert set(assigned) == set(GROUPS) and all(len(ids) == 1 for ids in assigned.values()), assigned
    assert assigned["spender"] != assigned["bargain"]
    personas = {row["persona_id"]: row for row in latest_personas(pipeline)}
    assert len(personas) == 2
    spenders, bargains = personas[next(iter(assigned["spender"]))], personas[next(iter(assigned["bargain"]))]
    assert (spenders["customers"], bargains["customers"]) == (PER_GROUP, PER_GROUP)
    assert spenders["name"].startswith("mobile") and "buyers" in spenders["name"], spenders["name"]
    assert bargains["name"].startswith("desktop"), bargains["name"]
    assert spenders["revenue_share"] == pytest.approx(5 * 240 / (5 * 240 + 15))
    portrait = orjson.loads(spenders["portrait"])
    assert portrait["devices"] == [{"value": "mobile", "share": 1.0}]
    assert portrait["channels"] == [{"value": "facebook / paid_social", "share": 1.0}]
    assert portrait["demographics"]["gender"] == [{"value": "female", "share": 1.0}]
    assert 24 <= portrait["demographics"]["age"] <= 30
    assert {page["value"] for page in portrait["top_pages"]} == {"/shoes", "/new-in"}
    problems = orjson.loads(bargains["portrait"])["problems"]
    # The site's themes split by wording; each of the bargain hunters' is a complaint about the checkout.
    assert problems and all(problem["detractors"] == problem["comments"] > 0 for problem in problems), problems
    assert "checkout" in " ".join(word for problem in problems for word in problem["key_words"]), problems
    praise = orjson.loads(spenders["portrait"])["problems"]
    assert praise and all(problem["detractors"] == 0 for problem in praise), praise
    assert not {"checkout", "payment"} & {word for problem in praise for term in problem["key_words"] for word in term.split()}
    # A refit on the same customers keeps every persona's id and every customer's persona.
    again = footfall(pipeline, config, "personas", "--site", SITE)
    assert again.returncode == 0, again.stdout + again.stderr
    assert personas_of_customers(pipeline) == assigned
    assert {row["persona_id"]: row["name"] for row in latest_personas(pipeline)} == {key: row["name"] for key, row in personas.items()}


def test_the_report_has_a_personas_section(landed) -> None:
    pipeline, config, _ = landed
    if not latest_personas(pipeline):
        assert footfall(pipeline, config, "personas", "--site", SITE).returncode == 0
    report = footfall(pipeline, config, "report", "--site", SITE)
    assert report.returncode == 0, report.stdout + report.stderr
    section = report.stdout[report.stdout.index(f"Personas of {SITE}"):]
    assert "facebook / paid_social" in section and "engineer" in section and "checkout" in section


def test_a_persons_persona_and_traits_are_exported_and_forgotten_with_them(landed, tmp_path: Path) -> None:
    pipeline, config, run = landed
    if not latest_personas(pipeline):
        assert footfall(pipeline, config, "personas", "--site", SITE).returncode == 0
    user = f"spender-user-0-{run}"
    out = tmp_path / "person.json"
    exported = footfall(pipeline, config, "export", "--site", SITE, "--user-id", user, "--out", str(out))
    assert exported.returncode == 0, exported.stdout + exported.stderr
    tables = orjson.loads(out.read_bytes())["tables"]
    assert [row["customer_id"] for row in tables["customer_personas"]] == [user]
    assert [orjson.loads(row["traits"])["occupation"] for row in tables["events"] if row["traits"]] == ["engineer"]
    forgotten = footfall(pipeline, config, "forget", "--site", SITE, "--user-id", user, "--yes")
    assert forgotten.returncode == 0, forgotten.stdout + forgotten.stderr
    assert counted(pipeline, f"SELECT count() AS n FROM footfall.customer_personas WHERE customer_id = '{user}'") == 0
    # Nor does the in-memory lookup behind customers.persona_id hold them until it next reloads.
    assert counted(pipeline, f"SELECT count() AS n FROM footfall.customer_persona_lookup WHERE customer_id = '{user}'") == 0
    assert counted(pipeline, f"SELECT count() AS n FROM footfall.events WHERE site_id = '{SITE}' AND type = 'identify'") == 2 * PER_GROUP - 1
