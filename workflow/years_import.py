"""培训年限 import from a spreadsheet: every row is checked by the same rule as a single edit
(`training.set_years`), each in its own savepoint so that every bad row is found; if any row is
bad, nothing of the file is applied (the caller rolls the transaction back)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from storage.models import Training
from workflow import training
from workflow.actor import Actor, require_role
from workflow.context import Ctx
from workflow.enums import Role
from workflow.errors import DomainError
from workflow.profile import parse_date

MAX_ROWS = 5000


@dataclass(frozen=True)
class YearsRow:
    """One line of the sheet as read: `row` is its number in the file (the header is row 1)."""

    row: int
    training_id: Any
    years: Any
    start: Any
    end: Any


@dataclass(frozen=True)
class RowError:
    row: int
    code: str
    params: dict[str, Any] = field(default_factory=dict)


class ImportRejected(DomainError):
    """Some rows are bad: the file is not applied. `errors` says which and why."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__("yimport.rejected", count=len(errors))
        self.errors = errors


@dataclass(frozen=True)
class ImportResult:
    changed: int
    unchanged: int


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _int(value: Any, code: str) -> int:
    if isinstance(value, bool):
        raise DomainError(code)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = str(value).strip().removesuffix("年")
    if not text.isdigit():
        raise DomainError(code)
    return int(text)


def _date(value: Any, name: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return parse_date(str(value).strip(), name)


async def apply(ctx: Ctx, actor: Actor, rows: list[YearsRow]) -> ImportResult:
    """Set the years of every row that differs from what is stored. Raises ImportRejected with
    every bad row; the caller must then roll back (some good rows were flushed)."""
    require_role(actor, Role.BASE)
    if not rows:
        raise DomainError("yimport.empty")
    if len(rows) > MAX_ROWS:
        raise DomainError("yimport.too_many", max=MAX_ROWS)
    errors: list[RowError] = []
    parsed: list[tuple[int, int, int, date, date | None]] = []
    seen: set[int] = set()
    for line in rows:
        if _blank(line.years) and _blank(line.start) and _blank(line.end):
            continue  # years not set yet, and left so
        try:
            tid = _int(line.training_id, "yimport.training_id")
            if tid in seen:
                raise DomainError("yimport.duplicate", id=tid)
            seen.add(tid)
            years = _int(line.years, "years.duration")
            if _blank(line.start):
                raise DomainError("field.required", field="start_date")
            start = _date(line.start, "start_date")
            end = None if _blank(line.end) else _date(line.end, "end_date")
        except DomainError as err:
            errors.append(RowError(line.row, err.code, err.params))
            continue
        parsed.append((line.row, tid, years, start, end))
    current = {
        t.id: t
        for t in (
            await ctx.session.scalars(
                select(Training).where(Training.id.in_([p[1] for p in parsed]))
            )
        ).all()
    }
    changed = unchanged = 0
    for row, tid, years, start, end in parsed:
        known = current.get(tid)
        if (
            known is not None
            and known.base_id == actor.base_id
            and (known.duration_years, known.start_date) == (years, start)
            and (end is None or end == known.end_date)
        ):
            unchanged += 1
            continue
        try:
            async with ctx.session.begin_nested():
                await training.set_years(ctx, actor, tid, years, start, end)
        except DomainError as err:
            errors.append(RowError(row, err.code, err.params))
            continue
        changed += 1
    if errors:
        raise ImportRejected(sorted(errors, key=lambda e: e.row))
    return ImportResult(changed, unchanged)
