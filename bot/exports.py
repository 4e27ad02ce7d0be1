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
from collections.abc import Sequence
from datetime import date, datetime
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


def _sheet(wb: Workbook, title: str, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Fill the workbook's first sheet."""
    ws = wb.worksheets[0]
    ws.title = title[:31]
    ws.append(list(header))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append(list(row))
    for i, name in enumerate(header, start=1):
        width = max([len(str(name))] + [len(str(r[i - 1] or "")) for r in rows[:200]])
        ws.column_dimensions[get_column_letter(i)].width = min(max(10, width * 1.6), 50)
    for row_cells in ws.iter_rows(min_row=2):
        for cell in row_cells:
            if isinstance(cell.value, date) and not isinstance(cell.value, datetime):
                cell.number_format = "yyyy-mm-dd"
    ws.freeze_panes = "A2"


def _about(
    wb: Workbook, i18n: Translator, title: str, filters: str, count: int, now: datetime
) -> None:
    ws = wb.create_sheet(i18n("staff.xlsx.about_sheet")[:31])
    ws.append([i18n("staff.xlsx.about_title"), plain(title)])
    ws.append([i18n("staff.xlsx.about_filters"), plain(filters)])
    ws.append([i18n("staff.xlsx.about_count"), count])
    ws.append([i18n("staff.xlsx.about_at"), i18n.datetime(now)])


def _save(wb: Workbook) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _when(i18n: Translator, value: datetime | None) -> str | None:
    return i18n.datetime(value) if value else None


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
                _when(i18n, r.submitted_at),
                i18n("common.yes") if r.sent_at else i18n("common.no"),
                _when(i18n, r.sent_at),
                _when(i18n, r.confirmed_at),
                i18n(f"staff.lbl.checkin.{r.checkin}") if r.checkin else None,
                _when(i18n, r.checkin_at),
                r.not_admitted_reason,
            ]
        )
    _sheet(wb, plain(title), header, data)
    _about(wb, i18n, title, filters, len(rows), now or datetime.now().astimezone())
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
    _sheet(wb, title, header, data)
    _about(wb, i18n, title, filters, len(rows), now or datetime.now().astimezone())
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


def handover_xlsx(rows: Sequence[dict[str, Any]]) -> bytes:
    from workflow.handover import FIELDS

    wb = Workbook()
    _sheet(wb, "handover", FIELDS, [[r.get(f) for f in FIELDS] for r in rows])
    return _save(wb)


def file_name(kind: str, now: datetime) -> str:
    return f"zhupei_{kind}_{now:%Y%m%d_%H%M%S}.xlsx"
