"""`footfall up --demo` as `make run` runs it, on a stack of its own with the default demo
site: when it returns, every section of `footfall report` has data — the checkout funnel
step by step, NPS, CSAT and CES, the themes of the survey comments, CAC per campaign,
engaged time, lifetime value figures from the fit the demo ran, and the personas it
grouped the customers into."""

from __future__ import annotations

from pathlib import Path

from footfall.reports.heatmap import read_heatmap
from footfall.reports.sections import NO_DATA
from infra import config
from infra.clickhouse.warehouse import open_warehouse
from tests.support.cli_runs import footfall as run
from tests.support.cli_runs import stack_env

SEED = 4242


def test_the_demo_leaves_no_section_of_the_report_empty(tmp_path: Path, monkeypatch) -> None:
    env = stack_env(tmp_path)
    (tmp_path / "footfall.toml").write_text("")  # no sites: the default demo site and its checkout funnel
    try:
        up = run(["up", "--detach", "--demo", "--seed", str(SEED)], env, timeout_s=900)
        assert up.returncode == 0, up.stdout + up.stderr
        assert f"seed {SEED}" in up.stdout
        assert "funnel      checkout:" in up.stdout and "surveys     NPS" in up.stdout and "CLV " in up.stdout
        assert "feedback    demo:" in up.stdout and "themes, the largest:" in up.stdout, up.stdout
        assert "personas    demo:" in up.stdout, up.stdout
        assert (tmp_path / "state" / "demo" / "campaign_costs.csv").read_text().startswith("day,utm_source")

        report = run(["report"], env)
        assert report.returncode == 0, report.stdout + report.stderr
        assert NO_DATA not in report.stdout, report.stdout
        for title in ("Funnel conversion", "NPS, CSAT and CES", "CAC per campaign", "Customer lifetime value", "P(alive)",
                      "Feedback themes of demo", "Personas of demo"):
            assert title in report.stdout

        for name, value in env.items():
            if name.startswith("FOOTFALL_"):
                monkeypatch.setenv(name, value)
        with open_warehouse(config.load()) as warehouse:
            query = warehouse.query
            steps = [r["visitors"] for r in query(
                "SELECT step, sum(visitors) AS visitors FROM footfall.funnel_daily WHERE site_id = 'demo' "
                "AND funnel = 'checkout' GROUP BY step ORDER BY step")]
            assert len(steps) == 4 and steps == sorted(steps, reverse=True) and steps[-1] > 0
            scores = query("SELECT count(nps) AS nps, count(csat) AS csat, count(ces) AS ces FROM footfall.customers FINAL")[0]
            assert all(scores[survey] > 0 for survey in ("nps", "csat", "ces")), scores
            comments = query("SELECT comment FROM footfall.events FINAL WHERE name = 'Survey Responded' AND comment != ''")
            assert any(not r["comment"].isascii() for r in comments) and any(r["comment"].isascii() for r in comments)
            cac = query("SELECT utm_campaign, sum(cost) AS cost FROM footfall.campaign_costs FINAL GROUP BY utm_campaign")
            assert len(cac) == 4 and all(r["cost"] > 0 for r in cac)
            customers = query("SELECT count() AS buyers, count(p_alive) AS fitted, min(p_alive) AS lowest, "
                              "sum(clv_predicted) AS predicted FROM footfall.customers FINAL WHERE purchases > 0")[0]
            assert customers["buyers"] >= 50 and customers["fitted"] == customers["buyers"]
            assert 0 < customers["lowest"] <= 1 and customers["predicted"] > 0
            (fit,) = query("SELECT customers, r, a FROM footfall.clv_models FINAL WHERE site_id = 'demo'")
            assert fit["customers"] >= customers["buyers"] and fit["r"] > 0
            assigned = query("SELECT count() AS customers, uniqExact(persona_id) AS personas FROM footfall.customer_personas FINAL "
                             "WHERE site_id = 'demo'")[0]
            stored = query("SELECT count() AS n, count(persona_id) AS placed FROM footfall.customers FINAL "
                           "WHERE site_id = 'demo' AND is_deleted = 0 AND (purchases > 0 OR user_id != '')")[0]
            assert assigned["customers"] == stored["n"] == stored["placed"] and assigned["personas"] >= 2, (assigned, stored)
            heatmap = read_heatmap(query, "demo", "/", None, False)
            assert heatmap.views > 0 and heatmap.engaged_ms / heatmap.views > 1000, "seconds of engaged time per view"
    finally:
        run(["down"], env)
