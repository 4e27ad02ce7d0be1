"""Charts sent as photos, drawn headless with matplotlib's Agg canvas (no pyplot, no global
state, safe in a worker thread) and the project's CJK font."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

from bot.fonts import matplotlib_font
from workflow.stats import COLUMNS, StatRow

COLORS = ("#4C78A8", "#72B7B2", "#54A24B", "#EECA3B", "#F58518", "#B279A2")


def stats_chart(rows: Sequence[StatRow], labels: Mapping[str, str], title: str) -> bytes:
    """Grouped bars per specialty (applicants … confirmed) with the plan as a black tick."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties

    font = FontProperties(family=matplotlib_font())
    stages = COLUMNS[1:]
    n = max(1, len(rows))
    fig = Figure(figsize=(min(4 + 1.8 * n, 16), 5.5), dpi=110)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    width = 0.8 / len(stages)
    for i, stage in enumerate(stages):
        xs = [k + (i - (len(stages) - 1) / 2) * width for k in range(len(rows))]
        values = [getattr(r, stage) for r in rows]
        bars = ax.bar(xs, values, width, label=labels[stage], color=COLORS[i])
        ax.bar_label(bars, labels=[str(v) if v else "" for v in values], fontsize=7, padding=1)
    for k, r in enumerate(rows):
        ax.hlines(
            r.planned,
            k - 0.45,
            k + 0.45,
            colors="black",
            linewidth=2.2,
            label=labels["planned"] if k == 0 else None,
        )
        ax.annotate(
            str(r.planned),
            (k + 0.45, r.planned),
            xytext=(3, -3),
            textcoords="offset points",
            fontsize=8,
        )
    ax.set_xticks(range(len(rows)))
    ax.set_xticklabels([r.specialty for r in rows], fontproperties=font)
    ax.set_title(title, fontproperties=font)
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(prop=font, ncol=4, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.08))
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()
