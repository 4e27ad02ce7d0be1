"""The /stats chart stays legible for the province's 36 specialties: every label is drawn
inside the picture and no two labels overlap (measured from matplotlib's text extents)."""

from __future__ import annotations

import csv
import itertools
import shutil
from pathlib import Path

from matplotlib.text import Text

from bot import charts
from bot.i18n import Translator
from workflow.stats import COLUMNS, StatRow

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "charts"
SPECIALTIES = Path(__file__).resolve().parents[2] / "reference" / "data" / "specialties.csv"


def specialty_rows(count: int) -> list[StatRow]:
    with SPECIALTIES.open(encoding="utf-8") as f:
        names = [r["专业名称"] for r in csv.DictReader(f)]
    rows = []
    for i, name in enumerate((names * 2)[:count]):
        planned = 5 + (i * 37) % 60
        applicants = (i * 53) % 90
        pre = applicants * 3 // 4
        admitted = pre * 4 // 5
        sent = admitted
        accepted = sent * 2 // 3
        rows.append(
            StatRow(i + 1, name if i < len(names) else f"{name}{i}", planned, applicants, pre,
                    admitted, sent, accepted, accepted // 2)
        )  # fmt: skip
    return rows


def labels() -> dict[str, str]:
    i18n = Translator("zh-CN")
    return {c: i18n(f"staff.stats.col.{c}") for c in COLUMNS}


def drawn_texts(fig) -> list[tuple[str, object]]:  # type: ignore[no-untyped-def]
    """Every text the picture shows: title, legend, axis labels, the ticks inside the view
    (matplotlib keeps labels of ticks beyond the limits, undrawn) and the numbers."""
    renderer = fig.canvas.get_renderer()
    fig.draw(renderer)
    (ax,) = fig.axes
    low, high = ax.get_xlim()
    xticks = [
        label
        for loc, label in zip(ax.get_xticks(), ax.get_xticklabels(), strict=True)
        if low <= loc <= high
    ]
    texts: list[Text] = [
        fig.get_suptitle() and fig._suptitle,
        *fig.legends[0].get_texts(),
        ax.xaxis.label,
        *xticks,
        *ax.get_yticklabels(),
        *ax.texts,
    ]
    return [
        (t.get_text(), t.get_window_extent(renderer))
        for t in texts
        if t and t.get_visible() and t.get_text().strip()
    ]


def assert_legible(fig, count: int) -> None:  # type: ignore[no-untyped-def]
    texts = drawn_texts(fig)
    width, height = fig.canvas.get_width_height()
    for text, box in texts:
        assert box.x0 >= 0 and box.y0 >= 0, text
        assert box.x1 <= width and box.y1 <= height, text
    for (a, box_a), (b, box_b) in itertools.combinations(texts, 2):
        assert not box_a.overlaps(box_b), f"{a!r} overlaps {b!r}"
    # Every specialty is named, with its numbers beside it.
    names = {t for t, _ in texts}
    ticks = [t for t in names if " / " in t and t[0].isdigit()]
    assert len(ticks) == count


def test_chart_of_36_specialties_has_no_overlapping_labels(tmp_path: Path) -> None:
    rows = specialty_rows(36)
    fig = charts.stats_figure(rows, labels(), "2026年住培招收 · 全省")
    assert_legible(fig, 36)
    names = {t for t, _ in drawn_texts(fig)}
    assert {"内科", "全科", "口腔全科"} <= names
    # Sorted by size: the first row (drawn on top) has the most applicants.
    ticks = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    biggest = max(rows, key=lambda r: (r.applicants, r.planned))
    assert ticks[0] == biggest.specialty
    png = charts.stats_chart(rows, labels(), "2026年住培招收 · 全省")
    path = tmp_path / "stats-36.png"
    path.write_bytes(png)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, ARTIFACTS / path.name)
    assert png.startswith(b"\x89PNG")


def test_charts_from_one_to_sixty_specialties_stay_legible() -> None:
    for count in (1, 2, 12, 60):
        fig = charts.stats_figure(specialty_rows(count), labels(), "批次 · 广州市")
        assert_legible(fig, count)
        _, height = fig.canvas.get_width_height()
        assert height >= count * charts.ROW_IN * charts.DPI  # grows with the count
