"""The application form (打印报名表) as a PDF, drawn with reportlab.

The caller hands over the form already worded (labels in the trainee's language, values as they
are); this module only lays it out. Chinese text uses the CJK TrueType font of `bot.fonts`, which
reportlab embeds (as a subset) in the file: reportlab's built-in CID fonts (STSong-Light…) are
not embedded, and a viewer without the matching font pack shows blanks or boxes for them.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from bot.fonts import reportlab_font


@dataclass(frozen=True)
class Fields:
    """A block of label/value pairs, laid out two pairs to a line."""

    title: str
    rows: list[tuple[str, str]]


@dataclass(frozen=True)
class Records:
    """A block of records (education, work) as a table with a header."""

    title: str
    header: list[str]
    rows: list[list[str]]
    empty: str = "—"


@dataclass(frozen=True)
class ApplicationForm:
    title: str
    subtitle: str
    blocks: list[Fields | Records] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    footer: str = ""


GRID = colors.HexColor("#7f7f7f")
SHADE = colors.HexColor("#eeeeee")
WIDTH = A4[0] - 30 * mm


def _styles(font: str) -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("base", fontName=font, fontSize=9.5, leading=13, wordWrap="CJK")
    return {
        "title": ParagraphStyle("title", parent=base, fontSize=17, leading=24, alignment=1),
        "subtitle": ParagraphStyle("subtitle", parent=base, fontSize=11, leading=16, alignment=1),
        "block": ParagraphStyle("block", parent=base, fontSize=11.5, leading=16, spaceBefore=4),
        "cell": base,
        "label": ParagraphStyle("label", parent=base, textColor=colors.HexColor("#333333")),
        "note": ParagraphStyle("note", parent=base, fontSize=8.5, leading=12),
    }


_CJK = re.compile(r"[\u3000-\u9fff\uff00-\uffef]")


def _p(text: str | None, style: ParagraphStyle) -> Paragraph:
    """A cell or line; None is a blank cell, an empty value reads as a dash. Chinese text may
    break between any two characters; other text only between words."""
    shown = "" if text is None else (text or "—")
    if not _CJK.search(shown):
        style = ParagraphStyle(f"{style.name}-latin", parent=style, wordWrap=None)
    return Paragraph(escape(shown).replace("\n", "<br/>"), style)


def _table(
    data: list[list[Paragraph]],
    widths: list[float],
    shaded_cols: tuple[int, ...] = (),
    header: bool = False,
) -> Table:
    table = Table(data, colWidths=widths, repeatRows=1 if header else 0)
    style = [
        ("GRID", (0, 0), (-1, -1), 0.5, GRID),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]
    style += [("BACKGROUND", (c, 0), (c, -1), SHADE) for c in shaded_cols]
    if header:
        style.append(("BACKGROUND", (0, 0), (-1, 0), SHADE))
    table.setStyle(TableStyle(style))
    return table


def _fields(block: Fields, s: dict[str, ParagraphStyle]) -> Table:
    pairs: list[tuple[str | None, str | None]] = list(block.rows)
    if len(pairs) % 2:
        pairs.append((None, None))
    data = [
        [
            _p(pairs[i][0], s["label"]),
            _p(pairs[i][1], s["cell"]),
            _p(pairs[i + 1][0], s["label"]),
            _p(pairs[i + 1][1], s["cell"]),
        ]
        for i in range(0, len(pairs), 2)
    ]
    label, value = WIDTH * 0.17, WIDTH * 0.33
    return _table(data, [label, value, label, value], shaded_cols=(0, 2))


def _records(block: Records, s: dict[str, ParagraphStyle]) -> Table:
    cols = len(block.header)
    data = [[_p(h, s["label"]) for h in block.header]]
    if block.rows:
        data += [[_p(cell, s["cell"]) for cell in r] for r in block.rows]
    else:
        data.append([_p(block.empty, s["cell"])] + [_p(None, s["cell"]) for _ in range(cols - 1)])
    return _table(data, [WIDTH / cols] * cols, header=True)


def render_pdf(form: ApplicationForm) -> bytes:
    font = reportlab_font()
    s = _styles(font)
    buffer = io.BytesIO()

    def footer(canvas: Canvas, doc: SimpleDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont(font, 8)
        canvas.drawString(15 * mm, 9 * mm, form.footer)
        canvas.drawRightString(A4[0] - 15 * mm, 9 * mm, f"{doc.page}")
        canvas.restoreState()

    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=12 * mm,
        bottomMargin=16 * mm,
        title=form.title,
        subject=form.subtitle,
        creator="zhupei",
        initialFontName=font,  # no unembedded default font in the file either
    )
    story: list[Flowable] = [
        _p(form.title, s["title"]),
        _p(form.subtitle, s["subtitle"]),
        Spacer(1, 2 * mm),
    ]
    for block in form.blocks:
        story.append(_p(block.title, s["block"]))
        story.append(_fields(block, s) if isinstance(block, Fields) else _records(block, s))
    if form.notes:
        story.append(Spacer(1, 2 * mm))
        story.append(_p("\n".join(form.notes), s["note"]))
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()
