"""One row of a file: its cells by column key, and the checks that record what is wrong."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from reference.importer.columns import (
    COLUMNS,
    LIST_SEPARATORS,
    PERSONNEL,
    choice_params,
    column_params,
    value_key,
)
from reference.importer.errors import SHANGHAI, Kind, RowError
from reference.importer.reading import Table, clean_cell, is_blank
from workflow.enums import PersonnelType

# --- one row ---------------------------------------------------------------------------------


class Row:
    """The cells of one row by column key, and checks that record what is wrong with them."""

    def __init__(self, table: Table, kind: Kind, number: int, values: dict[str, Any]) -> None:
        self.source = table.source
        self.number = number
        self.values = values
        self.columns = {c.key: c for c in COLUMNS[kind]}
        self.errors: list[RowError] = []
        self.typed = table.typed
        self.refused: set[str] = set()  # columns already refused by a check of the whole file

    def error(self, code: str, column: str | None = None, **params: Any) -> None:
        if column is not None:
            params = {**column_params(self.columns[column]), **params}
        self.errors.append(RowError(self.source, self.number, code, params))

    def raw(self, key: str) -> Any:
        return clean_cell(self.values.get(key))

    def text(self, key: str, max_len: int, *, required: bool = True) -> str | None:
        if key in self.refused:
            return None
        value = self.raw(key)
        if value is None:
            if required:
                self.error("required", key)
            return None
        text = value.isoformat() if isinstance(value, date | datetime) else str(value)
        if len(text) > max_len:
            self.error("too_long", key, max=max_len)
            return None
        return text

    def code(self, key: str, max_len: int, *, required: bool = True) -> str | None:
        text = self.text(key, max_len, required=required)
        if text is not None and not re.fullmatch(r"[0-9A-Za-z][0-9A-Za-z._-]*", text):
            self.error("code", key, value=text)
            return None
        return text

    def integer(self, key: str, lo: int, hi: int, default: int | None = None) -> int | None:
        value = self.raw(key)
        if value is None:
            if default is None:
                self.error("required", key)
            return default
        if isinstance(value, str) and re.fullmatch(r"[+-]?\d+", value):
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            self.error("integer", key, value=value, min=lo, max=hi)
            return None
        return value

    def choice(self, key: str, options: dict[str, Any], default: Any = None) -> Any:
        value = self.raw(key)
        if value is None:
            if default is None:
                self.error("required", key)
            return default
        found = options.get(value_key(str(value)))
        if found is None:
            self.error("choice", key, value=value, **choice_params(options))
        return found

    def personnel_types(self, key: str) -> list[PersonnelType] | None:
        value = self.raw(key)
        if value is None:
            self.error("types.empty")
            return None
        parts = LIST_SEPARATORS.split(unicodedata.normalize("NFKC", str(value)))
        found: list[PersonnelType] = []
        for part in (p.strip() for p in parts):
            if not part:
                continue
            ptype = PERSONNEL.get(value_key(part))
            if ptype is None:
                self.error("choice", key, value=part, **choice_params(PERSONNEL))
                return None
            if ptype not in found:
                found.append(ptype)
        if not found:
            self.error("types.empty")
            return None
        return found

    def moment(self, key: str, *, end: bool = False) -> datetime | None:
        value = self.raw(key)
        if value is None:
            self.error("required", key)
            return None
        parsed = parse_moment(value, end=end)
        if parsed is None:
            self.error("datetime", key, value=value)
        return parsed


def _as_number(row: Row, key: str) -> str | None:
    """The digits of a cell that came as a number: an .xlsx number cell, or digits in a CSV
    (where Excel writes a number it showed without the zeros it dropped)."""
    value = row.raw(key)
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and value >= 0:
        return str(value)
    if not row.typed and isinstance(value, str) and value.isdigit():
        return value
    return None


def check_lost_zeros(rows: list[Row], key: str, known: Iterable[str]) -> None:
    """Refuse a code that arrived as a number without its leading zeros: 400 where a known
    code (in the database, or text in the same column of the file) is 0400, or a number shorter
    than the zero-led codes of its column. Never stored as another code."""
    texts = [row.raw(key) for row in rows if _as_number(row, key) is None]
    zero_led = {t for t in texts if isinstance(t, str) and t.isdigit() and t.startswith("0")}
    padded = {code for code in known if code.isdigit() and code.startswith("0")} | zero_led
    width = max((len(code) for code in zero_led), default=0)
    numbers = [_as_number(row, key) for row in rows]
    if any(row.typed for row in rows):
        # Number cells of one column with fewer digits than the longest: zeros were dropped.
        width = max([width] + [len(n) for n in numbers if n is not None])
    for row, digits in zip(rows, numbers, strict=True):
        if digits is None or digits in known:
            continue
        code = next((c for c in sorted(padded) if c.lstrip("0") == digits.lstrip("0")), None)
        if code is None and (row.typed or zero_led) and len(digits) < width:
            code = digits.zfill(width)
        if code is not None:
            row.error("code.lost_zero", key, value=digits, intended=code)
            row.refused.add(key)


_MOMENT = re.compile(
    r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?"
    r"(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?"
)


def parse_moment(value: Any, *, end: bool = False) -> datetime | None:
    """A cell as an aware UTC datetime: Shanghai wall-clock unless it carries an offset."""
    if isinstance(value, datetime):
        local = value if value.tzinfo else value.replace(tzinfo=SHANGHAI)
        return local.astimezone(UTC)
    if isinstance(value, date):
        return _day(value, end)
    if not isinstance(value, str):
        return None
    match = _MOMENT.fullmatch(unicodedata.normalize("NFKC", value).strip())
    if match is None:
        return None
    y, mo, d, h, mi, s, offset = match.groups()
    try:
        day = date(int(y), int(mo), int(d))
        if h is None:
            return _day(day, end)
        moment = datetime.combine(day, time(int(h), int(mi), int(s or 0)))
    except ValueError:
        return None
    if offset is None:
        return moment.replace(tzinfo=SHANGHAI).astimezone(UTC)
    if offset == "Z":
        return moment.replace(tzinfo=UTC)
    sign = 1 if offset[0] == "+" else -1
    digits = offset[1:].replace(":", "")
    delta = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return (moment - sign * delta).replace(tzinfo=UTC)


def _day(day: date, end: bool) -> datetime:
    wall = datetime.combine(day, time(23, 59, 59) if end else time(0, 0))
    return wall.replace(tzinfo=SHANGHAI).astimezone(UTC)


def parse_rows(table: Table, kind: Kind, index: dict[str, int]) -> list[Row]:
    rows: list[Row] = []
    for number, cells in table.rows:
        if all(is_blank(c) for c in cells):
            continue
        row = Row(
            table, kind, number, {k: cells[i] if i < len(cells) else None for k, i in index.items()}
        )
        used = set(index.values())
        if any(not is_blank(c) for i, c in enumerate(cells) if i not in used):
            row.error("row.extra")
        rows.append(row)
    return rows
