"""Draw user paths as a Sankey picture to a PNG: the layout in (footfall/reports/sankey.py),
boxes, bands and labels out, no queries. Drawn with plain patches: matplotlib.sankey
draws one flow's branches, not flows between columns."""

from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure
from matplotlib.patches import PathPatch, Rectangle
from matplotlib.path import Path as Curve

from footfall.reports.path_tables import clip, step_label, stopped_word
from footfall.reports.paths import Direction, Paths
from footfall.reports.sankey import Band, Box, Kind, Layout, column_x, layout

BOX_WIDTH = 0.12  # of the distance between two columns
LABEL_CHARS = 30
DPI = 80
LABEL_BACKING = {"facecolor": "white", "alpha": 0.75, "edgecolor": "none", "pad": 1.5}  # legible over bands
COLOURS = {Kind.page: "#3b6ea5", Kind.other: "#8c8c8c", Kind.stopped: "#c0392b"}


def size(columns: int) -> tuple[float, float]:
    """Inches: room for each column's labels, whatever the steps."""
    return (2.0 + 2.8 * columns, 6.5)


def band_patch(band: Band, boxes: tuple[Box, ...]) -> PathPatch:
    """A band between two boxes' facing edges, its edges S-curves (cubic Béziers)."""
    source, target = boxes[band.source], boxes[band.target]
    step = 1 if target.x > source.x else -1
    x0, x1 = source.x + step * BOX_WIDTH / 2, target.x - step * BOX_WIDTH / 2
    middle = (x0 + x1) / 2
    # y grows downward in the layout; the axes run it from 1 at the top.
    s_top, s_bottom, t_top, t_bottom = (1 - y for y in (band.source_top, band.source_bottom, band.target_top, band.target_bottom))
    vertices = [
        (x0, s_top), (middle, s_top), (middle, t_top), (x1, t_top),
        (x1, t_bottom), (middle, t_bottom), (middle, s_bottom), (x0, s_bottom), (x0, s_top),
    ]
    codes = [Curve.MOVETO, *[Curve.CURVE4] * 3, Curve.LINETO, *[Curve.CURVE4] * 3, Curve.CLOSEPOLY]
    colour = COLOURS[Kind.stopped] if target.kind is Kind.stopped else COLOURS[Kind.page]
    return PathPatch(Curve(vertices, codes), facecolor=colour, edgecolor="none", alpha=0.25)


def title(paths: Paths, site: str, window: str) -> str:
    ask = paths.ask
    if ask.direction is Direction.entry:
        anchor = "from each session's entry"
    else:
        anchor = f"{'before' if ask.direction is Direction.to else 'after'} {clip(ask.page or '', 60)}"
    return f"{site} · paths {anchor} · {window}\n{paths.sessions:,} sessions, {ask.steps} steps; widths ∝ sessions, red: {stopped_word(ask)} there"


def draw(paths: Paths, site: str, window: str, out: Path) -> Path:
    picture: Layout = layout(paths, f"{stopped_word(paths.ask)} here")
    figure = Figure(figsize=size(picture.columns))  # no pyplot: nothing needs a display
    axes = figure.add_axes((0.02, 0.02, 0.96, 0.84))
    axes.set_xlim(-0.25, picture.columns - 0.3)  # room for the last column's labels
    axes.set_ylim(-0.02, 1.06)
    axes.axis("off")
    for band in picture.bands:
        axes.add_patch(band_patch(band, picture.boxes))
    for box in picture.boxes:
        axes.add_patch(Rectangle(
            (box.x - BOX_WIDTH / 2, 1 - box.bottom), BOX_WIDTH, max(box.bottom - box.top, 0.002),
            facecolor=COLOURS[box.kind], edgecolor="none",
        ))
        # Right of its box: between two columns a label shares room with bands only.
        axes.text(
            box.x + BOX_WIDTH / 2 + 0.03, 1 - (box.top + box.bottom) / 2,
            f"{clip(box.label, LABEL_CHARS)}  {box.sessions:,}", ha="left", va="center",
            fontsize=8, parse_math=False, bbox=LABEL_BACKING,
        )
    for depth in range(picture.columns):
        axes.text(column_x(paths.ask.direction, depth, picture.columns), 1.04, step_label(paths.ask, depth), ha="center", fontsize=9, weight="bold")
    # Paths come from the data: `$` in one is a character, not mathematics.
    figure.suptitle(title(paths, site, window), fontsize=10, parse_math=False)
    figure.savefig(out, dpi=DPI)
    return out
