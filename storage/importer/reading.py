"""Reading `.xlsx` and `.csv` files into a header and numbered rows."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from storage.importer.errors import fail

# --- reading files ---------------------------------------------------------------------------


@dataclass
class Table:
    """A header and its rows, each with its number as a spreadsheet user counts it."""

    source: str
    headers: list[str]
    rows: list[tuple[int, list[Any]]]

    @classmethod
    def from_records(
        cls, source: str, headers: Sequence[str], records: Iterable[Sequence[Any]]
    ) -> Table:
        return cls(source, list(headers), [(i, list(r)) for i, r in enumerate(records, start=2)])


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not clean_cell(value))


def clean_cell(value: Any) -> Any:
    if isinstance(value, str):
        value = value.replace("\u3000", " ").replace("\xa0", " ").strip()
        return value or None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _read_csv(path: Path) -> tuple[list[Any], list[tuple[int, list[Any]]]]:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise fail(path.name, "file.not_utf8") from exc
    records = list(csv.reader(io.StringIO(text, newline="")))
    if not records:
        return [], []
    return records[0], list(enumerate(records[1:], start=2))


def _xlsx_value(cell: Any) -> Any:
    value, number_format = cell.value, cell.number_format or ""
    # A date cell (no hours in its format) means a day, not its midnight.
    if isinstance(value, datetime) and "h" not in number_format.lower():
        return value.date()
    # A code typed as a number keeps its leading zeros only through a "0000" format.
    if isinstance(value, int | float) and re.fullmatch(r"0{2,}", number_format):
        return str(int(value)).zfill(len(number_format))
    return value


def _read_xlsx(path: Path) -> tuple[list[Any], list[tuple[int, list[Any]]]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise fail(path.name, "file.unreadable", detail=str(exc) or type(exc).__name__) from exc
    try:
        sheet = workbook.worksheets[0]
        rows = [
            (cells[0].row, [_xlsx_value(c) for c in cells])
            for cells in sheet.iter_rows(min_row=1)
            if cells
        ]
    finally:
        workbook.close()
    if not rows or rows[0][0] != 1:
        return [], rows
    return rows[0][1], rows[1:]


def read_file(path: Path | str) -> Table:
    path = Path(path)
    if not path.is_file():
        raise fail(path.name, "file.missing")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        header, rows = _read_csv(path)
    elif suffix in {".xlsx", ".xlsm"}:
        header, rows = _read_xlsx(path)
    else:
        raise fail(path.name, "file.type", suffix=suffix or path.name)
    headers = ["" if is_blank(h) else str(clean_cell(h)) for h in header]
    if not any(headers):
        raise fail(path.name, "file.no_header")
    return Table(path.name, headers, rows)
