"""A picture of the pipeline health dashboard, drawn from Prometheus without Grafana.

Every graph panel of deploy/grafana/dashboards/pipeline-health.json is queried over a
recent window (Prometheus' query_range, Grafana's variables filled in as Grafana would)
and drawn with matplotlib in the dashboard's order. The README shows the result:

    python deploy/grafana/draw_picture.py --prometheus http://127.0.0.1:9090 --minutes 15
"""

from __future__ import annotations

import argparse
import json
import math
import re
import time
from datetime import datetime
from pathlib import Path

import httpx
from matplotlib.dates import DateFormatter
from matplotlib.figure import Figure

GRAFANA_DIR = Path(__file__).resolve().parent
DASHBOARD = GRAFANA_DIR / "dashboards" / "pipeline-health.json"
PICTURE = GRAFANA_DIR / "pipeline-health.png"
LEGEND_LABEL = re.compile(r"\{\{\s*(\w+)\s*\}\}")
COLUMNS = 4


def fill_variables(expr: str, rate_interval: str) -> str:
    return expr.replace("$__rate_interval", rate_interval).replace("$site", ".*")


def series(prometheus: str, expr: str, start: float, end: float, step: float) -> list[dict]:
    params = {"query": expr, "start": start, "end": end, "step": step}
    answer = httpx.get(f"{prometheus}/api/v1/query_range", params=params, timeout=30).json()
    if answer["status"] != "success":
        raise RuntimeError(f"{expr}: {answer.get('error')}")
    return answer["data"]["result"]


def legend(template: str | None, labels: dict[str, str]) -> str:
    if not template:
        return ", ".join(f"{k}={v}" for k, v in labels.items() if k != "__name__") or "value"
    return LEGEND_LABEL.sub(lambda match: labels.get(match[1], ""), template)


def draw(prometheus: str, minutes: float, out: Path) -> Path:
    panels = [p for p in json.loads(DASHBOARD.read_text())["panels"] if p["type"] == "timeseries"]
    end = time.time()
    start = end - minutes * 60
    step = max(5.0, minutes * 60 / 240)
    rate_interval = f"{max(60, int(step * 4))}s"
    rows = math.ceil(len(panels) / COLUMNS)
    figure = Figure(figsize=(5 * COLUMNS, 2.9 * rows))  # no pyplot: nothing needs a display
    axes = figure.subplots(rows, COLUMNS, squeeze=False)
    for ax, panel in zip(axes.flat, panels, strict=False):
        for target in panel["targets"]:
            for line in series(prometheus, fill_variables(target["expr"], rate_interval), start, end, step):
                times = [datetime.fromtimestamp(float(t)) for t, _ in line["values"]]
                values = [float(v) for _, v in line["values"]]
                ax.plot(times, values, linewidth=1.2, label=legend(target.get("legendFormat"), line["metric"]))
        ax.set_title(panel["title"], fontsize=9, loc="left")
        ax.tick_params(labelsize=7)
        ax.xaxis.set_major_formatter(DateFormatter("%H:%M"))
        ax.grid(alpha=0.3)
        unit = panel["fieldConfig"]["defaults"].get("unit")
        if unit in ("s", "bytes", "reqps"):
            ax.set_ylabel({"s": "seconds", "bytes": "bytes", "reqps": "requests/s"}[unit], fontsize=7)
        if ax.lines:
            ax.legend(fontsize=6, loc="upper left")
    for ax in list(axes.flat)[len(panels):]:
        ax.set_visible(False)
    figure.suptitle(f"footfall · pipeline health (last {minutes:g} minutes)", fontsize=12)
    figure.tight_layout()
    figure.savefig(out, dpi=80)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prometheus", default="http://127.0.0.1:9090")
    parser.add_argument("--minutes", type=float, default=15)
    parser.add_argument("--out", type=Path, default=PICTURE)
    args = parser.parse_args()
    print(draw(args.prometheus, args.minutes, args.out))


if __name__ == "__main__":
    main()
