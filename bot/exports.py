"""Excel files of the staff consoles (openpyxl): the export of any filtered list, the training
years export that doubles as the import template, the import's reader, and the hand-over sheet.

Full ID numbers in exports: the chat always shows them masked. A file carries the full number
only for those who need it to act on the trainee: the base's own staff, for the trainees of
their base (enrolment, contracts, the national platform's forms), and the province (which runs
the hand-over to the national platform and holds every record anyway). A city reviewer confirms
and reviews without needing the number, and gets it masked; so does a base for the candidates of
other bases it sees in 学员调配管理. Decryption happens here and in the hand-over only.
"""

from __future__ import annotations

import html
import io
import re
import unicodedata
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from bot.i18n import LOCALES, Translator
from storage.crypto import FieldCipher
from workflow.actor import Actor
from workflow.enums import Role
from workflow.errors import DomainError
from workflow.queues import AppRow, TrainingRow
from workflow.years_import import YearsRow

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHOWS_FULL_ID = frozenset({Role.BASE, Role.PROVINCE})
APP_COLUMNS = (
    "application_id",
    "name",
    "id_type",
    "id_number",
    "batch",
    "cohort_year",
    "personnel_type",
    "specialty",
    "base",
    "site",
    "reassignment",
    "status",
    "submitted_at",
    "sent",
    "sent_at",
    "confirmed_at",
    "checkin",
    "checkin_at",
    "not_admitted_reason",
)
YEARS_COLUMNS = (
    "training_id",
    "name",
    "id_number",
    "batch",
    "specialty",
    "years",
    "start",
    "end",
    "training_status",
    "reduction",
)
# Columns the import reads (by header text, in either language).
IMPORT_COLUMNS = ("training_id", "years", "start", "end")


def sees_full_ids(actor: Actor) -> bool:
    return actor.role in SHOWS_FULL_ID


def _id_number(
    actor: Actor, cipher: FieldCipher, base_id: int | None, enc: bytes | None, tail: str
) -> str:
    covered = actor.role is Role.PROVINCE or (
        actor.role is Role.BASE and base_id is not None and base_id == actor.base_id
    )
    if enc is not None and covered:
        return cipher.decrypt("id_number", enc)
    return f"****{tail}"


def plain(text: str) -> str:
    """Telegram HTML to plain text for a cell."""
    return html.unescape(re.sub(r"<[^>]+>", "", text))


DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
DATE_FORMAT = "yyyy-mm-dd"
MAX_WIDTH = 60


def display_width(value: Any) -> int:
    """Characters as a spreadsheet shows them: a Chinese character takes two."""
    if value is None:
        return 0
    if isinstance(value, datetime):
        return len("2026-07-01 09:00")
    if isinstance(value, date):
        return len("2026-07-01")
    text = str(value)
    return max(
        (
            sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line)
            for line in text.splitlines()
        ),
        default=0,
    )


def local_time(i18n: Translator, value: datetime | None) -> datetime | None:
    """An aware time as the naive Asia/Shanghai wall-clock an Excel date-time cell holds."""
    if value is None:
        return None
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(i18n.tz).replace(tzinfo=None)


def _sheet(
    wb: Workbook,
    title: str,
    header: Sequence[str],
    rows: Sequence[Sequence[Any]],
    text_columns: Sequence[int] = (),
) -> None:
    """Fill the workbook's first sheet: a bold, frozen header with a filter, date-times and
    dates as real cells with a readable format, `text_columns` (0-based) as text, columns as
    wide as their content."""
    ws = wb.worksheets[0]
    ws.title = title[:31]
    ws.append(list(header))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append(list(row))
    for row_cells in ws.iter_rows(min_row=2):
        for cell in row_cells:
            if isinstance(cell.value, datetime):
                cell.number_format = DATETIME_FORMAT
            elif isinstance(cell.value, date):
                cell.number_format = DATE_FORMAT
            elif cell.column - 1 in text_columns and cell.value is not None:
                cell.value = str(cell.value)
                cell.number_format = "@"
    for i, name in enumerate(header, start=1):
        # The header's filter button takes about three characters.
        width = max([display_width(name) + 3] + [display_width(r[i - 1]) for r in rows[:500]])
        ws.column_dimensions[get_column_letter(i)].width = min(max(8, width + 2), MAX_WIDTH)
    ws.freeze_panes = "A2"
    if header:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(header))}{max(ws.max_row, 1)}"


def _about(
    wb: Workbook, i18n: Translator, title: str, filters: str, count: int, now: datetime
) -> None:
    ws = wb.create_sheet(i18n("staff.xlsx.about_sheet")[:31])
    ws.append([i18n("staff.xlsx.about_title"), plain(title)])
    ws.append([i18n("staff.xlsx.about_filters"), plain(filters)])
    ws.append([i18n("staff.xlsx.about_count"), count])
    ws.append([i18n("staff.xlsx.about_at"), local_time(i18n, now)])
    ws["B4"].number_format = DATETIME_FORMAT
    _fit(ws)


def _fit(ws: Any) -> None:
    for column in ws.columns:
        width = max(display_width(c.value) for c in column)
        ws.column_dimensions[column[0].column_letter].width = min(max(8, width + 2), MAX_WIDTH)


def _save(wb: Workbook) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def applications_xlsx(
    rows: Sequence[AppRow],
    i18n: Translator,
    cipher: FieldCipher,
    actor: Actor,
    title: str,
    filters: str,
    now: datetime | None = None,
) -> bytes:
    wb = Workbook()
    header = [i18n(f"staff.xlsx.{c}") for c in APP_COLUMNS]
    data = []
    for r in rows:
        data.append(
            [
                r.id,
                r.name,
                i18n.label("id_type", r.id_type),
                _id_number(actor, cipher, r.base_id, r.id_number_enc, r.id_tail),
                r.batch_name,
                r.cohort_year,
                i18n.label("ptype", r.personnel_type) if r.personnel_type else None,
                r.specialty_name,
                r.base_name,
                r.site_name,
                i18n("common.yes") if r.accept_reassignment else i18n("common.no"),
                plain(i18n.label("status", r.status)),
                local_time(i18n, r.submitted_at),
                i18n("common.yes") if r.sent_at else i18n("common.no"),
                local_time(i18n, r.sent_at),
                local_time(i18n, r.confirmed_at),
                i18n(f"staff.lbl.checkin.{r.checkin}") if r.checkin else None,
                local_time(i18n, r.checkin_at),
                r.not_admitted_reason,
            ]
        )
    _sheet(wb, plain(title), header, data, text_columns=(APP_COLUMNS.index("id_number"),))
    _about(wb, i18n, title, filters, len(rows), now or datetime.now(UTC))
    return _save(wb)


def trainings_xlsx(
    rows: Sequence[TrainingRow],
    i18n: Translator,
    cipher: FieldCipher,
    actor: Actor,
    filters: str,
    now: datetime | None = None,
) -> bytes:
    """The years list; its first, sixth, seventh and eighth columns are what the import reads."""
    wb = Workbook()
    header = [i18n(f"staff.xlsx.{c}") for c in YEARS_COLUMNS]
    data = []
    for r in rows:
        data.append(
            [
                r.id,
                r.name,
                _id_number(actor, cipher, r.base_id, r.id_number_enc, r.id_tail),
                r.batch_name,
                r.specialty_name,
                r.duration_years,
                r.start_date,
                r.end_date,
                i18n(f"staff.lbl.training.{r.status}"),
                plain(i18n.label("status", r.reduction_status)) if r.reduction_status else None,
            ]
        )
    title = i18n("staff.xlsx.years_sheet")
    _sheet(wb, title, header, data, text_columns=(YEARS_COLUMNS.index("id_number"),))
    _about(wb, i18n, title, filters, len(rows), now or datetime.now(UTC))
    return _save(wb)


def _header_names(column: str) -> set[str]:
    return {Translator(loc)(f"staff.xlsx.{column}").strip().lower() for loc in LOCALES} | {column}


def read_years_xlsx(data: bytes) -> list[YearsRow]:
    """The rows of an uploaded years sheet (first sheet, header in row 1), as text or values."""
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise DomainError("yimport.not_xlsx") from exc
    try:
        ws = wb.worksheets[0]
        rows = ws.iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            raise DomainError("yimport.empty")
        names = [str(h).strip().lower() if h is not None else "" for h in header]
        index: dict[str, int] = {}
        for column in IMPORT_COLUMNS:
            wanted = _header_names(column)
            found = [i for i, n in enumerate(names) if n in wanted]
            if not found:
                names_shown = " / ".join(Translator(loc)(f"staff.xlsx.{column}") for loc in LOCALES)
                raise DomainError("yimport.header", column=names_shown)
            index[column] = found[0]
        out: list[YearsRow] = []
        for number, values in enumerate(rows, start=2):
            cells = list(values) + [None] * len(names)
            if all(v is None or (isinstance(v, str) and not v.strip()) for v in cells):
                continue
            out.append(
                YearsRow(
                    row=number,
                    training_id=cells[index["training_id"]],
                    years=cells[index["years"]],
                    start=cells[index["start"]],
                    end=cells[index["end"]],
                )
            )
        return out
    finally:
        wb.close()


HANDOVER_TIMES = ("sent_at", "confirmed_at", "reduction_applied_at", "changed_at")
HANDOVER_DATES = ("birth_date", "training_start", "training_end")
# Fields of a hand-over row that hold an enum value, and the texts that name each value.
HANDOVER_LABELS = {
    "id_type": "label.id_type.{}",
    "gender": "trainee.profile.gender.{}",
    "personnel_type": "label.ptype.{}",
    "status": "label.status.{}",
    "checkin": "staff.lbl.checkin.{}",
    "training_status": "staff.lbl.training.{}",
}


def _handover_value(i18n: Translator, field: str, value: Any) -> Any:
    if value is None or value == "":
        return None
    if field in HANDOVER_TIMES:
        return local_time(i18n, datetime.fromisoformat(value))
    if field in HANDOVER_DATES:
        return date.fromisoformat(value)
    if field in HANDOVER_LABELS:
        key = HANDOVER_LABELS[field].format(value)
        return plain(i18n(key)) if i18n.has(key) else value
    return value


def handover_xlsx(
    rows: Sequence[dict[str, Any]],
    since: datetime | None,
    until: datetime,
    i18n: Translator | None = None,
) -> bytes:
    """The hand-over for people: Chinese headers, names instead of codes, local date-times.
    The JSON written beside it keeps the codes for machines."""
    from workflow.handover import FIELDS

    i18n = i18n or Translator("zh-CN")
    wb = Workbook()
    header = [i18n(f"offices.handover.column.{f}") for f in FIELDS]
    data = [[_handover_value(i18n, f, r.get(f)) for f in FIELDS] for r in rows]
    _sheet(wb, i18n("offices.handover.sheet"), header, data, (FIELDS.index("id_number"),))
    ws = wb.create_sheet(i18n("offices.handover.about_sheet")[:31])
    ws.append([i18n("offices.handover.about_since"), local_time(i18n, since)])
    ws.append([i18n("offices.handover.about_until"), local_time(i18n, until)])
    ws.append([i18n("offices.handover.about_count"), len(rows)])
    ws.append([i18n("offices.handover.about_note")])
    ws["B1"].number_format = ws["B2"].number_format = DATETIME_FORMAT
    _fit(ws)
    return _save(wb)


def file_name(kind: str, now: datetime) -> str:
    return f"zhupei_{kind}_{now:%Y%m%d_%H%M%S}.xlsx"
