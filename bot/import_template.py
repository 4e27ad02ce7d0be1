"""`zhupei import --template KIND`: an .xlsx an office fills in and imports as it is.

Sheet 1 holds the header (the importer's Chinese column names, or the English keys) and one
example row; code columns are formatted as text, so 0400 keeps its zero when typed, and time
columns as date-times. Sheet 2 says for each column whether it is required and what it takes,
then lists the valid codes: the choices of the importer and the references found in the
database (cities, national bases, specialties, batches).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import Translator
from reference.importer import Kind
from reference.importer.columns import COLUMNS, PERSONNEL, PROGRAMS, SUPERVISORS, choice_names
from workflow import reference_lists
from workflow.enums import BaseKind

TEXT_ROWS = 500  # rows below the header whose code cells are preformatted as text
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
CODE_COLUMNS = {
    Kind.CITIES: {"code"},
    Kind.BASES: {"code", "city", "national_base"},
    Kind.SPECIALTIES: {"code"},
    Kind.BATCHES: set(),
    Kind.PLANS: {"base", "specialty"},
}
TIME_COLUMNS = {"apply_start", "apply_end", "confirm_start", "confirm_end"}
_NOTES = "请按照住培基地录取结果选择对应的住培基地和培训专业，拟培训专业与志愿务必一致。"
_BATCH = "2027年住院医师规范化培训招收（第一批）"
# One realistic row per kind (demo-data codes), in the order of COLUMNS.
EXAMPLES: dict[Kind, tuple[Any, ...]] = {
    Kind.CITIES: ("4401", "广州市"),
    Kind.BASES: ("GD440111", "广州市红十字会医院", "4401", None, "地市"),
    Kind.SPECIALTIES: ("0100", "内科", "Internal Medicine", "住院医师规范化培训"),
    Kind.BATCHES: (
        "住院医师规范化培训",
        _BATCH,
        2027,
        datetime(2027, 7, 1, 9, 0),
        datetime(2027, 7, 15, 17, 0),
        "面向社会招收住院医师，本单位住院医师，全日制硕士专业学位研究生（并轨专硕）",
        12,
        datetime(2027, 7, 20, 9, 0),
        datetime(2027, 8, 1, 17, 0),
        48,
        _NOTES,
    ),
    Kind.PLANS: (_BATCH, "住院医师规范化培训", "GD440111", "0100", 5),
}


def headers(kind: Kind, locale: str) -> list[str]:
    return [c.zh if locale == "zh-CN" else c.key for c in COLUMNS[kind]]


async def valid_codes(session: AsyncSession, kind: Kind) -> dict[str, list[tuple[str, str]]]:
    """Column key → (code, name) pairs the column takes (or, for a key column, the codes already
    there, which a row updates)."""
    out: dict[str, list[tuple[str, str]]] = {}
    programs = [(str(v), zh) for v, zh in choice_names(PROGRAMS)]
    cities = [(c.code, c.name) for c in await reference_lists.cities(session)]
    national = [
        (b.code, b.name)
        for b in await reference_lists.bases(session)
        if b.kind is BaseKind.NATIONAL
    ]
    specialties = [(s.code, s.name) for s in await reference_lists.specialties(session)]
    if kind is Kind.CITIES:
        out["code"] = cities
    elif kind is Kind.BASES:
        out["city"] = cities
        out["national_base"] = national
        out["supervisor"] = [(str(v), zh) for v, zh in choice_names(SUPERVISORS)]
    elif kind is Kind.SPECIALTIES:
        out["code"] = specialties
        out["program"] = programs
    elif kind is Kind.BATCHES:
        out["program"] = programs
        out["personnel_types"] = [(str(v), zh) for v, zh in choice_names(PERSONNEL)]
    else:
        batches = await reference_lists.batches(session)
        out["batch"] = [(b.name, str(b.cohort_year)) for b in batches]
        out["program"] = programs
        out["base"] = national
        out["specialty"] = specialties
    return out


def template_xlsx(
    kind: Kind, codes: dict[str, list[tuple[str, str]]], locale: str = "zh-CN"
) -> bytes:
    i18n = Translator(locale)
    columns = COLUMNS[kind]
    names = headers(kind, locale)
    wb = Workbook()
    ws = wb.worksheets[0]
    ws.title = i18n(f"offices.template.sheet.{kind.value}")[:31]
    ws.append(names)
    ws.append(list(EXAMPLES[kind]))
    for i, column in enumerate(columns, start=1):
        letter = get_column_letter(i)
        head = ws.cell(row=1, column=i)
        head.font = Font(bold=True, color=None if column.required else "666666")
        head.comment = Comment(_rule(i18n, kind, column.key, column.required), "zhupei")
        if column.key in CODE_COLUMNS[kind]:
            for row in range(2, TEXT_ROWS + 2):
                ws.cell(row=row, column=i).number_format = "@"
        elif column.key in TIME_COLUMNS:
            for row in range(2, TEXT_ROWS + 2):
                ws.cell(row=row, column=i).number_format = DATETIME_FORMAT
        example = EXAMPLES[kind][i - 1]
        width = max(len(names[i - 1]) * 2, len(str(example or "")) * 2, 10)
        ws.column_dimensions[letter].width = min(width, 60)
    ws.freeze_panes = "A2"
    _rules_sheet(wb, i18n, kind, names, codes)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _rule(i18n: Translator, kind: Kind, key: str, required: bool) -> str:
    need = i18n("offices.template.required" if required else "offices.template.optional")
    return f"{need}. {i18n(f'offices.rule.{kind.value}.{key}')}"


def _rules_sheet(
    wb: Workbook,
    i18n: Translator,
    kind: Kind,
    names: Sequence[str],
    codes: dict[str, list[tuple[str, str]]],
) -> None:
    ws = wb.create_sheet(i18n("offices.template.rules_sheet")[:31])
    ws.append([i18n(f"offices.template.about.{kind.value}")])
    ws.append([])
    ws.append([i18n(f"offices.template.{h}") for h in ("column", "need", "rule")])
    bold = [ws.max_row]
    for column, name in zip(COLUMNS[kind], names, strict=True):
        need = "required" if column.required else "optional"
        ws.append(
            [
                name,
                i18n(f"offices.template.{need}"),
                i18n(f"offices.rule.{kind.value}.{column.key}"),
            ]
        )
    ws.append([])
    ws.append([i18n("offices.template.codes_title")])
    bold.append(ws.max_row)
    ws.append([i18n(f"offices.template.{h}") for h in ("column", "code", "name")])
    bold.append(ws.max_row)
    by_key = dict(zip((c.key for c in COLUMNS[kind]), names, strict=True))
    for key, pairs in codes.items():
        if not pairs:
            ws.append([by_key[key], i18n("offices.template.none_yet")])
        for code, name in pairs:
            cell_row = [by_key[key], code, name]
            ws.append(cell_row)
            ws.cell(row=ws.max_row, column=2).number_format = "@"
    for row in bold:
        for cell in ws[row]:
            cell.font = Font(bold=True)
    ws["A1"].font = Font(bold=True, size=12)
    ws.column_dimensions["A"].width = 22
    ws.column_dimensions["B"].width = 44
    ws.column_dimensions["C"].width = 80
    for row_cells in ws.iter_rows(min_row=3):
        for cell in row_cells:
            cell.alignment = Alignment(wrap_text=True, vertical="top")


def columns_help() -> str:
    """The columns of each kind for `zhupei import --help` (* required)."""
    lines = ["columns (Chinese or English header; * required):"]
    for kind, columns in COLUMNS.items():
        named = ", ".join(f"{c.zh} {c.key}{'*' if c.required else ''}" for c in columns)
        lines.append(f"  {kind.value}: {named}")
    return "\n".join(lines)
