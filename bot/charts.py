"""Charts sent as photos, drawn headless with matplotlib's Agg canvas (no pyplot, no global
state, safe in a worker thread) and the project's CJK font."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from bot.fonts import matplotlib_font
from workflow.stats import COLUMNS, StatRow

if TYPE_CHECKING:
    from matplotlib.figure import Figure

COLORS = ("#C6DBEF", "#9ECAE1", "#6BAED6", "#4292C6", "#2171B5", "#08519C")
WIDTH_IN = 8.0
ROW_IN = 0.3  # each specialty's row: legible labels up to 60 specialties and beyond
FRAME_IN = 1.7  # title, legend and the axis below the rows
MIN_SLOTS = 4
DPI = 120


def by_size(rows: Sequence[StatRow]) -> list[StatRow]:
    """Largest first: applicants, then the plan, then the name for a stable order."""
    return sorted(rows, key=lambda r: (-r.applicants, -r.planned, r.specialty))


def stats_figure(rows: Sequence[StatRow], labels: Mapping[str, str], title: str) -> Figure:
    """One horizontal row per specialty, sorted by size. The stages are cumulative (each counts
    who reached it), so their bars are drawn over each other from the widest (applicants) to the
    narrowest (confirmed); the plan is a black tick; the row ends with "applicants / plan"."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties
    from matplotlib.lines import Line2D

    family = matplotlib_font()
    font = FontProperties(family=family, size=9)
    small = FontProperties(family=family, size=8)
    ordered = by_size(rows)
    n = max(1, len(ordered))
    slots = max(n, MIN_SLOTS)  # a bar keeps its thickness when there are only one or two
    fig = Figure(figsize=(WIDTH_IN, FRAME_IN + ROW_IN * slots), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    ys = list(range(len(ordered)))
    stages = COLUMNS[1:]
    handles = []
    for i, stage in enumerate(stages):
        values = [getattr(r, stage) for r in ordered]
        handles.append(ax.barh(ys, values, 0.7, color=COLORS[i], label=labels[stage]))
    ax.scatter(
        [r.planned for r in ordered], ys, marker="|", s=220, linewidths=2.2, color="black", zorder=3
    )
    handles.append(
        Line2D(
            [], [], color="black", marker="|", linestyle="", markersize=12, label=labels["planned"]
        )
    )
    top = max([max(r.applicants, r.planned) for r in ordered] + [1])
    for y, r in zip(ys, ordered, strict=True):
        ax.annotate(
            f"{r.applicants} / {r.planned}",
            (max(r.applicants, r.planned), y),
            xytext=(6, 0),
            textcoords="offset points",
            va="center",
            fontproperties=small,
        )
    ax.set_xlim(0, top * 1.25)
    pad = (slots - len(ordered)) / 2
    ax.set_ylim(len(ordered) - 0.5 + pad, -0.5 - pad)  # the largest on top
    ax.set_yticks(ys)
    ax.set_yticklabels([r.specialty for r in ordered], fontproperties=font)
    ax.tick_params(axis="y", length=0)
    ax.xaxis.get_major_locator().set_params(integer=True)
    for label in ax.get_xticklabels():
        label.set_fontproperties(small)
    ax.set_xlabel(f"{labels['applicants']} / {labels['planned']}", fontproperties=small)
    ax.grid(axis="x", alpha=0.3)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    fig.suptitle(title, fontproperties=FontProperties(family=family, size=11))
    fig.legend(handles=handles, loc="outside lower center", ncol=4, prop=small, frameon=False)
    return fig


def stats_chart(rows: Sequence[StatRow], labels: Mapping[str, str], title: str) -> bytes:
    buf = io.BytesIO()
    stats_figure(rows, labels, title).savefig(buf, format="png")
    return buf.getvalue()
