"""Importing each kind of file, all rows or none."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from reference.importer.columns import (
    PERIOD_ZH,
    PROGRAMS,
    SUPERVISORS,
    column_limit,
    infer_kind,
    map_headers,
)
from reference.importer.errors import (
    KIND_OF_BASE_ZH,
    PROGRAM_ZH,
    ImportFailed,
    ImportResult,
    Kind,
    RowError,
    fail,
)
from reference.importer.reading import Table, read_file
from reference.importer.rows import Row, check_lost_zeros, parse_rows
from storage.models import (
    Application,
    AuditLog,
    Base,
    Batch,
    BatchPersonnelType,
    City,
    Plan,
    Specialty,
)
from workflow.enums import BaseKind, PersonnelType, PlanStatus, Program, Supervisor
from workflow.plans import MAX_PLANNED

# --- the kinds -------------------------------------------------------------------------------


def _upsert(session: AsyncSession, row: Any, values: dict[str, Any]) -> str:
    """Add `row` when it is new, else update it from `values`: created, updated or unchanged."""
    if getattr(row, "id", None) is None:
        session.add(row)
        return "created"
    changed = False
    for key, value in values.items():
        if getattr(row, key) != value:
            setattr(row, key, value)
            changed = True
    return "updated" if changed else "unchanged"


class _Seen:
    """Keys met earlier in the file, for duplicates."""

    def __init__(self) -> None:
        self.rows: dict[Any, int] = {}

    def check(self, row: Row, key: Any) -> bool:
        if key in self.rows:
            row.error("duplicate", other=self.rows[key])
            return False
        self.rows[key] = row.number
        return True


async def _import_cities(
    session: AsyncSession, rows: list[Row], result: ImportResult, now: datetime
) -> list[RowError]:
    existing = {c.code: c for c in await session.scalars(select(City))}
    check_lost_zeros(rows, "code", existing)
    seen, parsed = _Seen(), []
    for row in rows:
        code = row.code("code", column_limit(City, "code"))
        name = row.text("name", column_limit(City, "name"))
        if code is not None and seen.check(row, code) and name is not None:
            parsed.append((code, name))
    errors = [e for r in rows for e in r.errors]
    if errors:
        return errors
    for code, name in parsed:
        city = existing.get(code) or City(code=code, name=name)
        result.tally(_upsert(session, city, {"name": name}))
    return []


async def _import_bases(
    session: AsyncSession, rows: list[Row], result: ImportResult, now: datetime
) -> list[RowError]:
    cities = list(await session.scalars(select(City)))
    city_by_code = {c.code: c for c in cities}
    city_by_name = {c.name: c for c in cities}
    existing = {b.code: b for b in await session.scalars(select(Base))}
    # What each code is, as far as rows read so far know: the file overrides the database.
    known = {b.code: (BaseKind(b.kind), Supervisor(b.supervisor)) for b in existing.values()}
    check_lost_zeros(rows, "code", existing)
    check_lost_zeros(rows, "city", city_by_code)
    check_lost_zeros(rows, "national_base", existing)
    seen, parsed = _Seen(), []
    for row in rows:
        code = row.code("code", column_limit(Base, "code"))
        name = row.text("name", column_limit(Base, "name"))
        city_ref = row.text("city", 64)
        parent = row.code("national_base", column_limit(Base, "code"), required=False)
        supervisor = row.choice("supervisor", SUPERVISORS, default=False) or None
        city = None
        if city_ref is not None:
            city = city_by_code.get(city_ref) or city_by_name.get(city_ref)
            if city is None:
                row.error("city.unknown", value=city_ref)
        if code is None or not seen.check(row, code):
            continue
        kind = BaseKind.LOCAL if parent else BaseKind.NATIONAL
        if parent is not None:
            if parent == code:
                row.error("parent.self")
            elif parent not in known:
                row.error("parent.unknown", value=parent)
            elif known[parent][0] is not BaseKind.NATIONAL:
                row.error("parent.local", value=parent)
            else:
                supervisor = supervisor or known[parent][1]
        old = existing.get(code)
        if old is not None and BaseKind(old.kind) is not kind:
            row.error(
                "base.kind_change",
                value=code,
                old=old.kind,
                new=kind.value,
                old_zh=KIND_OF_BASE_ZH[BaseKind(old.kind)],
                new_zh=KIND_OF_BASE_ZH[kind],
            )
        supervisor = supervisor or Supervisor.CITY
        known[code] = (kind, supervisor)
        if not row.errors:
            parsed.append((code, name, city, parent, kind, supervisor))
    errors = [e for r in rows for e in r.errors]
    if errors:
        return errors
    by_code = dict(existing)
    for code, name, city, parent, kind, supervisor in parsed:
        parent_id = by_code[parent].id if parent else None
        values = {
            "name": name,
            "kind": kind,
            "city_id": city.id,
            "parent_id": parent_id,
            "supervisor": supervisor,
        }
        base = by_code.get(code) or Base(code=code, **values)
        by_code[code] = base
        outcome = _upsert(session, base, values)
        result.tally(outcome)
        if outcome == "created":
            await session.flush()  # later rows may name it as their national base
    return []


async def _import_specialties(
    session: AsyncSession, rows: list[Row], result: ImportResult, now: datetime
) -> list[RowError]:
    existing = {(Program(s.program), s.code): s for s in await session.scalars(select(Specialty))}
    check_lost_zeros(rows, "code", {code for _, code in existing})
    seen, parsed = _Seen(), []
    for row in rows:
        code = row.code("code", column_limit(Specialty, "code"))
        name = row.text("name", column_limit(Specialty, "name"))
        name_en = row.text("name_en", column_limit(Specialty, "name_en"), required=False) or ""
        program = row.choice("program", PROGRAMS, default=Program.RESIDENCY)
        if code and program and seen.check(row, (program, code)) and not row.errors:
            parsed.append((program, code, name, name_en))
    errors = [e for r in rows for e in r.errors]
    if errors:
        return errors
    for program, code, name, name_en in parsed:
        values = {"name": name, "name_en": name_en}
        spec = existing.get((program, code)) or Specialty(program=program, code=code, **values)
        result.tally(_upsert(session, spec, values))
    return []


def _check_periods(row: Row, times: dict[str, datetime | None]) -> None:
    def order(start: str, end: str) -> bool:
        a, b = times[start], times[end]
        if a is not None and b is not None and a >= b:
            row.error(
                "period.order",
                start=start,
                end=end,
                start_zh=PERIOD_ZH[start],
                end_zh=PERIOD_ZH[end],
            )
            return False
        return a is not None and b is not None

    apply_ok = order("apply_start", "apply_end")
    confirm_ok = order("confirm_start", "confirm_end")
    if apply_ok and confirm_ok:
        if times["confirm_start"] < times["apply_start"]:  # type: ignore[operator]
            row.error("period.confirm_start")
        if times["confirm_end"] <= times["apply_end"]:  # type: ignore[operator]
            row.error("period.confirm_end")


async def _import_batches(
    session: AsyncSession, rows: list[Row], result: ImportResult, now: datetime
) -> list[RowError]:
    existing = {(Program(b.program), b.name): b for b in await session.scalars(select(Batch))}
    with_applications = set(
        await session.scalars(select(Application.batch_id).group_by(Application.batch_id))
    )
    seen, parsed = _Seen(), []
    for row in rows:
        program = row.choice("program", PROGRAMS)
        name = row.text("name", column_limit(Batch, "name"))
        cohort = row.integer("cohort_year", 2000, 2100)
        times = {
            "apply_start": row.moment("apply_start"),
            "apply_end": row.moment("apply_end", end=True),
            "confirm_start": row.moment("confirm_start"),
            "confirm_end": row.moment("confirm_end", end=True),
        }
        types = row.personnel_types("personnel_types")
        lock_hours = row.integer("lock_hours", 0, 168, default=12)
        offer_hours = row.integer("offer_hours", 1, 720, default=48)
        notes = row.text("notes", column_limit(Batch, "notes"), required=False) or ""
        _check_periods(row, times)
        if program is None or name is None or not seen.check(row, (program, name)):
            continue
        old = existing.get((program, name))
        if old and cohort and old.cohort_year != cohort and old.id in with_applications:
            row.error("batch.cohort_locked")
        if not row.errors:
            values = {
                "cohort_year": cohort,
                **times,
                "lock_hours": lock_hours,
                "offer_hours": offer_hours,
                "notes": notes,
            }
            parsed.append((program, name, values, types))
    errors = [e for r in rows for e in r.errors]
    if errors:
        return errors
    for program, name, values, types in parsed:
        batch = existing.get((program, name)) or Batch(
            program=program, name=name, created_at=now, **values
        )
        outcome = _upsert(session, batch, values)
        await session.flush()
        assert batch.id is not None
        if await _set_types(session, batch.id, types) and outcome == "unchanged":
            outcome = "updated"
        result.tally(outcome)
    return []


async def _set_types(session: AsyncSession, batch_id: int, types: list[PersonnelType]) -> bool:
    """Make the batch's personnel types exactly `types`; True when that changed something."""
    rows = list(
        await session.scalars(
            select(BatchPersonnelType).where(BatchPersonnelType.batch_id == batch_id)
        )
    )
    have = {PersonnelType(r.personnel_type) for r in rows}
    for r in rows:
        if PersonnelType(r.personnel_type) not in types:
            await session.delete(r)
    for t in types:
        if t not in have:
            session.add(BatchPersonnelType(batch_id=batch_id, personnel_type=t))
    return have != set(types)


async def _import_plans(
    session: AsyncSession, rows: list[Row], result: ImportResult, now: datetime
) -> list[RowError]:
    batches = list(await session.scalars(select(Batch)))
    bases = {b.code: b for b in await session.scalars(select(Base))}
    specs = {(Program(s.program), s.code): s for s in await session.scalars(select(Specialty))}
    existing = {
        (p.batch_id, p.base_id, p.specialty_id): p for p in await session.scalars(select(Plan))
    }
    check_lost_zeros(rows, "base", bases)
    check_lost_zeros(rows, "specialty", {code for _, code in specs})
    seen, parsed = _Seen(), []
    for row in rows:
        batch_name = row.text("batch", column_limit(Batch, "name"))
        program = row.choice("program", PROGRAMS, default=False) or None
        base_code = row.code("base", column_limit(Base, "code"))
        spec_code = row.code("specialty", column_limit(Specialty, "code"))
        planned = row.integer("planned", 0, MAX_PLANNED)
        batch = None
        if batch_name is not None:
            named = [b for b in batches if b.name == batch_name]
            named = [b for b in named if program is None or Program(b.program) is program]
            if not named:
                row.error("batch.unknown", value=batch_name)
            elif len(named) > 1:
                row.error("batch.ambiguous", value=batch_name)
            else:
                batch = named[0]
        base = None
        if base_code is not None:
            base = bases.get(base_code)
            if base is None:
                row.error("base.unknown", value=base_code)
            elif BaseKind(base.kind) is not BaseKind.NATIONAL:
                row.error("base.not_national", value=base_code)
                base = None
        spec = None
        if spec_code is not None and batch is not None:
            batch_program = Program(batch.program)
            spec = specs.get((batch_program, spec_code))
            if spec is None:
                row.error(
                    "specialty.unknown",
                    value=spec_code,
                    program=batch_program.value,
                    program_zh=PROGRAM_ZH[batch_program],
                )
        if batch is None or base is None or spec is None:
            continue
        key = (batch.id, base.id, spec.id)
        if seen.check(row, key) and not row.errors:
            parsed.append((key, planned))
    errors = [e for r in rows for e in r.errors]
    if errors:
        return errors
    for (batch_id, base_id, spec_id), planned in parsed:
        plan = existing.get((batch_id, base_id, spec_id))
        if plan is not None and plan.planned == planned and plan.status != PlanStatus.DECLARED:
            result.unchanged += 1
            continue
        values = {"planned": planned, "status": PlanStatus.APPROVED, "reason": None}
        if plan is None:
            plan = Plan(batch_id=batch_id, base_id=base_id, specialty_id=spec_id, **values)
        plan.decided_at = now
        result.tally(_upsert(session, plan, values))
    return []


_IMPORTERS = {
    Kind.CITIES: _import_cities,
    Kind.BASES: _import_bases,
    Kind.SPECIALTIES: _import_specialties,
    Kind.BATCHES: _import_batches,
    Kind.PLANS: _import_plans,
}


async def import_table(
    session: AsyncSession, table: Table, kind: Kind | str | None = None, *, now: datetime
) -> ImportResult:
    """Check every row of `table`, then apply them all in the caller's transaction; raise
    `ImportFailed` (having written nothing) when any row is wrong."""
    kind = Kind(kind) if kind else infer_kind(table)
    index, errors = map_headers(table, kind)
    if errors:
        raise ImportFailed(errors)
    rows = parse_rows(table, kind, index)
    if not rows:
        raise fail(table.source, "file.no_rows")
    result = ImportResult(table.source, kind)
    errors = await _IMPORTERS[kind](session, rows, result, now)
    if errors:
        raise ImportFailed(errors)
    await session.flush()
    session.add(
        AuditLog(
            at=now,
            entity=kind.value[:32],
            entity_id=0,
            action="import",
            detail={
                "source": table.source,
                "created": result.created,
                "updated": result.updated,
                "unchanged": result.unchanged,
            },
        )
    )
    return result


async def import_file(
    session: AsyncSession, path: Path | str, kind: Kind | str | None = None, *, now: datetime
) -> ImportResult:
    return await import_table(session, read_file(path), kind, now=now)
