"""Draw a page's click heatmap and scroll map to a PNG: figures in, file out, no queries.

The heatmap is the page as the grid sees it, width normalised and bands of page pixels
from the top, so pages seen on phones and desktops overlay; the scroll map beside it
shares the page's vertical direction, top first.
"""

from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure

from footfall.reports.heatmap import PageHeatmap
from schemas.rollups import HEATMAP_BAND_PX, HEATMAP_COLUMNS


def describe(heatmap: PageHeatmap) -> str:
    window = f"since {heatmap.since:%Y-%m-%d %H:%M} UTC" if heatmap.since else "all time"
    engaged = heatmap.engaged_ms / heatmap.views / 1000 if heatmap.views else 0.0
    return (
        f"{heatmap.site} · {heatmap.path} · {window}\n"
        f"{heatmap.views:,} page views, {heatmap.visitors:,} visitors, {heatmap.clicks:,} clicks, "
        f"{engaged:.1f} s engaged per view"
    )


def draw(heatmap: PageHeatmap, out: Path) -> Path:
    figure = Figure(figsize=(10, 6.5))  # no pyplot: nothing needs a display
    clicks_ax, scroll_ax = figure.subplots(1, 2, gridspec_kw={"width_ratios": (3, 2)})

    bands = max(len(heatmap.grid), 1)
    grid = heatmap.grid or [[0] * HEATMAP_COLUMNS]
    image = clicks_ax.imshow(
        grid, cmap="inferno", aspect="auto", interpolation="nearest",
        extent=(0, 100, bands * HEATMAP_BAND_PX, 0),
    )
    figure.colorbar(image, ax=clicks_ax, label="clicks", shrink=0.8)
    clicks_ax.set_title("clicks", loc="left", fontsize=10)
    clicks_ax.set_xlabel("% of page width")
    clicks_ax.set_ylabel("page pixels from the top")

    bands_pct = sorted(heatmap.reach)
    views = heatmap.reach.get(0, 0)
    shares = [100 * heatmap.reach[band] / views if views else 0.0 for band in bands_pct]
    bars = scroll_ax.barh([f"{band} %" for band in bands_pct], shares, color="#d9822b")
    scroll_ax.invert_yaxis()
    scroll_ax.bar_label(bars, labels=[f"{heatmap.reach[band]:,}" for band in bands_pct], fontsize=8, padding=3)
    scroll_ax.set_xlim(0, 115)
    scroll_ax.set_title("scroll reach (page views, % of views)", loc="left", fontsize=10)
    scroll_ax.set_xlabel("% of page views")
    scroll_ax.set_ylabel("depth reached")
    scroll_ax.grid(axis="x", alpha=0.3)

    # The path comes from the data: `$` in it is a character, not mathematics.
    figure.suptitle(describe(heatmap), fontsize=10, parse_math=False)
    figure.tight_layout()
    figure.savefig(out, dpi=80)
    return out
