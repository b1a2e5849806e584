"""`footfall feedback`, the report's Feedback section, and a person's comments exported and
forgotten, through the real pipeline: survey answers with comments in English, Russian and
Vietnamese go HTTP → Kafka → Faust → sink → ClickHouse, and the commands read them back."""

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

from infra.config import Settings
from infra.keys import site_key
from collector.personal_data import personal_hash
from tests.support.pipeline import Pipeline, configured_pipeline
from tests.support.waiting import wait_for

SITE, KEY, HASH_KEY = "opinions", "opinions_key", "feedback-test-installation-key-01"
CONFIG = f'[[sites]]\nid = "{SITE}"\nwrite_key = "{KEY}"\n'
EMAIL = "jane.doe@example.com"
# (survey, score, comment): two themes per language, and comments no theme can hold.
ANSWERS = [
    *(("nps", 3, text) for text in ("Delivery was late again", "The delivery took two weeks, far too late",
                                    "Late delivery, the parcel arrived after a week", "Slow delivery, the order came late")),
    *(("csat", 2, text) for text in ("Доставка опоздала на неделю", "Очень долгая доставка", "Доставка заняла две недели",
                                     "Доставка снова опоздала")),
    *(("ces", 6, text) for text in ("Giao hàng nhanh, đặt hàng dễ", "Giao hàng nhanh quá", "Đặt hàng dễ, giao hàng nhanh",
                                    "Giao hàng rất nhanh")),
    *(("nps", 10, text) for text in ("Great support team, very helpful", "The support team was helpful and kind",
                                     "Helpful support, great team", "Support team solved it, very helpful")),
    ("nps", 9, "👍👍👍"),
    ("nps", 5, "!!!"),
]
# The person exported and forgotten: their comment quotes their email address.
PERSON_COMMENT = f"Поддержка не отвечает, пишите на {EMAIL}"


def messages(run: str, now: datetime) -> list[dict]:
    sent = [
        {"type": "track", "event": "Survey Responded", "messageId": f"{run}-{number}", "anonymousId": f"v{number}-{run}",
         "timestamp": (now - timedelta(days=20 - number % 20, minutes=number)).isoformat(),
         "properties": {"survey": survey, "score": score, "comment": comment}}
        for number, (survey, score, comment) in enumerate(ANSWERS)
    ]
    sent.append({"type": "track", "event": "Survey Responded", "messageId": f"{run}-person", "anonymousId": f"person-{run}",
                 "userId": f"user-{run}", "timestamp": (now - timedelta(days=1)).isoformat(),
                 "properties": {"survey": "nps", "score": 1, "comment": PERSON_COMMENT + " " + "ж" * 100_000}})
    return sent


def comments_stored(pipeline: Pipeline) -> int:
    return pipeline.query(f"SELECT count() AS n FROM footfall.events FINAL WHERE site_id = '{SITE}' AND comment != ''")[0]["n"]


@pytest.fixture(scope="module")
def landed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Pipeline, Path, str]]:
    with configured_pipeline(tmp_path_factory.mktemp("feedback"), CONFIG, FOOTFALL_HASH_KEY=HASH_KEY) as (pipeline, config):
        run = uuid.uuid4().hex[:8]
        sent = messages(run, datetime.now(UTC).replace(microsecond=0))
        # The 100 KB comment is over the collector's bounds of a message (32 KB): refused
        # alone, with a reason; the same answer with a comment within it is taken and masked.
        answer = httpx.post(f"{pipeline.collector.url}/v1/batch", json={"batch": sent}, auth=(KEY, ""), timeout=120)
        assert answer.status_code == 200 and answer.json()["accepted"] == len(sent) - 1, answer.text
        assert "over the limit" in answer.json()["errors"][0]["reason"], answer.text
        person = {**sent[-1], "properties": {**sent[-1]["properties"], "comment": PERSON_COMMENT + " " + "ж" * 5000}}
        answer = httpx.post(f"{pipeline.collector.url}/v1/batch", json={"batch": [person]}, auth=(KEY, ""), timeout=120)
        assert answer.status_code == 200 and answer.json() == {"success": True}, answer.text
        wait_for(lambda: comments_stored(pipeline) == len(sent) or comments_stored(pipeline), 180, "every comment in ClickHouse")
        yield pipeline, config, run


def footfall(pipeline: Pipeline, config: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, **pipeline.env, "FOOTFALL_CONFIG": str(config), "COLUMNS": "250"}
    return subprocess.run([sys.executable, "-m", "footfall.cli", *args], env=env, capture_output=True, text=True, timeout=300)


def test_a_comment_is_stored_masked_and_bounded_in_its_own_column(landed) -> None:
    pipeline, _, run = landed
    row = pipeline.query(f"SELECT comment, properties FROM footfall.events FINAL WHERE user_id = 'user-{run}'")[0]
    hashed = personal_hash(site_key(Settings(hash_key=HASH_KEY), SITE), EMAIL)
    assert EMAIL not in row["comment"] and row["comment"].startswith(f"Поддержка не отвечает, пишите на {hashed}")
    assert len(row["comment"]) == 2000 and "comment" not in orjson.loads(row["properties"])


def test_feedback_groups_the_comments_of_three_languages_into_themes(landed) -> None:
    pipeline, config, _ = landed
    shown = footfall(pipeline, config, "feedback", "--site", SITE)
    assert shown.returncode == 0, shown.stdout + shown.stderr
    out = shown.stdout
    assert f"Feedback themes of {SITE}" in out and "silhouette" in out
    for words in ("delivery", "доставка", "giao hàng", "support"):
        assert words in out, out
    assert "without a word" in out  # the emoji and the punctuation
    assert EMAIL not in out
    # The NPS answers alone: no Russian (CSAT) or Vietnamese (CES) theme is left.
    nps = footfall(pipeline, config, "feedback", "--site", SITE, "--survey", "nps")
    assert nps.returncode == 0 and "delivery" in nps.stdout and "giao hàng" not in nps.stdout and "Очень" not in nps.stdout


def test_a_site_without_comments_and_a_wrong_survey_are_told_clearly(landed) -> None:
    pipeline, config, _ = landed
    none = footfall(pipeline, config, "feedback", "--site", "nobody")
    assert none.returncode == 1 and "no survey comments of nobody" in none.stdout, none.stdout + none.stderr
    wrong = footfall(pipeline, config, "feedback", "--survey", "mood")
    assert wrong.returncode == 2 and "--survey takes nps, csat, ces" in wrong.stdout


def test_the_report_has_a_feedback_section(landed) -> None:
    pipeline, config, _ = landed
    report = footfall(pipeline, config, "report", "--site", SITE)
    assert report.returncode == 0, report.stdout + report.stderr
    section = report.stdout[report.stdout.index(f"Feedback themes of {SITE}"):]
    assert "доставка" in section and "giao hàng" in section and "detractors" in section


def test_a_persons_comments_are_exported_and_forgotten_with_them(landed, tmp_path: Path) -> None:
    pipeline, config, run = landed
    out = tmp_path / "person.json"
    exported = footfall(pipeline, config, "export", "--site", SITE, "--user-id", f"user-{run}", "--out", str(out))
    assert exported.returncode == 0, exported.stdout + exported.stderr
    events = orjson.loads(out.read_bytes())["tables"]["events"]
    assert [event["comment"][:21] for event in events] == ["Поддержка не отвечает"]
    forgotten = footfall(pipeline, config, "forget", "--site", SITE, "--user-id", f"user-{run}", "--yes")
    assert forgotten.returncode == 0, forgotten.stdout + forgotten.stderr
    assert pipeline.query("SELECT count() AS n FROM footfall.events WHERE position(comment, 'Поддержка не отвечает') > 0") == [{"n": 0}]
    assert comments_stored(pipeline) == len(ANSWERS)
    after = footfall(pipeline, config, "feedback", "--site", SITE)
    assert after.returncode == 0 and "Поддержка не отвечает" not in after.stdout
