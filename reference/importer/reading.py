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

from reference.importer.errors import fail

# --- reading files ---------------------------------------------------------------------------


@dataclass
class Table:
    """A header and its rows, each with its number as a spreadsheet user counts it."""

    source: str
    headers: list[str]
    rows: list[tuple[int, list[Any]]]
    header_row: int = 1
    # Cells typed in an .xlsx keep their type; a CSV cell is text even where a number was meant.
    typed: bool = True

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


# What Excel and WPS write for "CSV" on a Chinese system; GB18030 reads all of them.
_GB_FAMILY = {"gb2312", "gbk", "gb18030", "hz", "cp936"}


def decode_csv(data: bytes, source: str) -> str:
    """UTF-8 (with or without BOM), else the encoding charset-normalizer finds (GBK and GB18030
    read as GB18030, their superset)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    matches = from_bytes(data)
    names = [m.encoding.lower().replace("_", "") for m in matches]
    if any(name in _GB_FAMILY for name in names):
        try:
            return data.decode("gb18030")
        except UnicodeDecodeError:
            pass
    best = matches.best()
    if best is None:
        raise fail(source, "file.encoding")
    return str(best)


def _read_csv(path: Path) -> list[tuple[int, list[Any]]]:
    text = decode_csv(path.read_bytes(), path.name)
    return list(enumerate(csv.reader(io.StringIO(text, newline="")), start=1))


def _xlsx_value(cell: Any) -> Any:
    value, number_format = cell.value, cell.number_format or ""
    # A date cell (no hours in its format) means a day, not its midnight.
    if isinstance(value, datetime) and "h" not in number_format.lower():
        return value.date()
    # A code typed as a number keeps its leading zeros only through a "0000" format.
    if isinstance(value, int | float) and re.fullmatch(r"0{2,}", number_format):
        return str(int(value)).zfill(len(number_format))
    return value


def _read_xlsx(path: Path) -> list[tuple[int, list[Any]]]:
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
    return rows


HEADER_SEARCH_ROWS = 10


def _header_at(rows: list[tuple[int, list[Any]]]) -> int:
    """The index of the header: the first of the top rows that names two known columns (rows
    above it are a title or notes), else the first row."""
    from reference.importer.columns import known_header

    for i, (_, cells) in enumerate(rows[:HEADER_SEARCH_ROWS]):
        named = [c for c in cells if isinstance(c, str) and known_header(c)]
        if len(named) >= 2:
            return i
    return 0


def read_file(path: Path | str) -> Table:
    path = Path(path)
    if not path.is_file():
        raise fail(path.name, "file.missing")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        rows = _read_csv(path)
    elif suffix in {".xlsx", ".xlsm"}:
        rows = _read_xlsx(path)
    else:
        raise fail(path.name, "file.type", suffix=suffix or path.name)
    at = _header_at(rows)
    number, header = rows[at] if rows else (1, [])
    headers = ["" if is_blank(h) else str(clean_cell(h)) for h in header]
    if not any(headers):
        raise fail(path.name, "file.no_header")
    return Table(path.name, headers, rows[at + 1 :], number, typed=suffix != ".csv")
