"""Read-only views of the reference data the wizard and the menus show."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, select
from sqlalchemy.orm import aliased

from storage.models import (
    AllocationOffer,
    Application,
    Base,
    Batch,
    BatchPersonnelType,
    City,
    Plan,
    Specialty,
)
from workflow.context import Ctx
from workflow.enums import ApplicationStatus, OfferStatus, PersonnelType, PlanStatus, Program
from workflow.search import pinyin_key

VISIBLE_PLAN = (PlanStatus.APPROVED, PlanStatus.ADJUSTED)
# Applications that count as 已报名 for a base: submitted, whatever happened after.
APPLIED = tuple(s.value for s in ApplicationStatus if s is not ApplicationStatus.DRAFT)


@dataclass(frozen=True)
class BatchView:
    batch: Batch
    types: tuple[PersonnelType, ...]

    def is_open(self, now: datetime) -> bool:
        return self.batch.apply_start <= now <= self.batch.apply_end and bool(self.types)


def batch_is_open(batch: Batch, now: datetime) -> bool:
    return batch.apply_start <= now <= batch.apply_end


async def batch_types(ctx: Ctx, batch_id: int) -> tuple[PersonnelType, ...]:
    rows = await ctx.session.scalars(
        select(BatchPersonnelType.personnel_type).where(BatchPersonnelType.batch_id == batch_id)
    )
    return tuple(sorted((PersonnelType(t) for t in rows), key=list(PersonnelType).index))


async def batches(ctx: Ctx, program: Program | None = None) -> list[BatchView]:
    """Batches with their personnel types, newest first (two queries, not one per batch)."""
    stmt = select(Batch).order_by(Batch.apply_start.desc(), Batch.id.desc())
    if program is not None:
        stmt = stmt.where(Batch.program == program)
    rows = list((await ctx.session.scalars(stmt)).all())
    types: dict[int, list[PersonnelType]] = {}
    if rows:
        pairs = await ctx.session.execute(
            select(BatchPersonnelType.batch_id, BatchPersonnelType.personnel_type).where(
                BatchPersonnelType.batch_id.in_([b.id for b in rows])
            )
        )
        for batch_id, ptype in pairs:
            types.setdefault(batch_id, []).append(PersonnelType(ptype))
    order = list(PersonnelType)
    return [BatchView(b, tuple(sorted(types.get(b.id, []), key=order.index))) for b in rows]  # type: ignore[arg-type]


@dataclass(frozen=True)
class PlanRow:
    base_id: int
    base_name: str
    specialty_id: int
    planned: int
    applicants: int
    city: str = ""
    city_code: str = ""


def by_city_and_pinyin(rows: list[PlanRow]) -> list[PlanRow]:
    """The order of every list of bases: by city (its code, the province's own order), then
    by the pinyin of the base's name."""
    return sorted(rows, key=lambda r: (r.city_code, pinyin_key(r.base_name)))


async def national_bases_for(ctx: Ctx, batch_id: int, specialty_id: int) -> list[PlanRow]:
    """Step 5 of the wizard: the national bases with a plan for this specialty, each with its
    招收计划数 and live 已报名人数, in one grouped query."""
    counted = (
        select(Application.base_id, func.count(Application.id).label("n"))
        .where(
            Application.batch_id == batch_id,
            Application.specialty_id == specialty_id,
            Application.status.in_(APPLIED),
        )
        .group_by(Application.base_id)
        .subquery()
    )
    stmt = (
        select(
            Base.id, Base.name, Plan.planned, func.coalesce(counted.c.n, 0), City.name, City.code
        )
        .join(Plan, Plan.base_id == Base.id)
        .join(City, City.id == Base.city_id)
        .outerjoin(counted, counted.c.base_id == Base.id)
        .where(
            Plan.batch_id == batch_id,
            Plan.specialty_id == specialty_id,
            Plan.status.in_(VISIBLE_PLAN),
            Plan.planned > 0,
        )
    )
    rows = await ctx.session.execute(stmt)
    return by_city_and_pinyin(
        [PlanRow(i, n, specialty_id, p, a, cn, cc) for i, n, p, a, cn, cc in rows]
    )


async def local_bases_for(
    ctx: Ctx, batch_id: int, specialty_id: int, national_id: int
) -> list[PlanRow]:
    """The local bases (sites) of a national base, each with its 已报名人数."""
    counted = (
        select(Application.site_id, func.count(Application.id).label("n"))
        .where(
            Application.batch_id == batch_id,
            Application.specialty_id == specialty_id,
            Application.status.in_(APPLIED),
        )
        .group_by(Application.site_id)
        .subquery()
    )
    stmt = (
        select(Base.id, Base.name, func.coalesce(counted.c.n, 0), City.name, City.code)
        .join(City, City.id == Base.city_id)
        .outerjoin(counted, counted.c.site_id == Base.id)
        .where(Base.parent_id == national_id)
    )
    rows = await ctx.session.execute(stmt)
    return by_city_and_pinyin(
        [PlanRow(i, n, specialty_id, 0, a, cn, cc) for i, n, a, cn, cc in rows]
    )


async def specialties_with_plans(ctx: Ctx, batch_id: int) -> list[Specialty]:
    """Specialties some base plans to take in this batch."""
    stmt = (
        select(Specialty)
        .where(
            Specialty.id.in_(
                select(Plan.specialty_id).where(
                    Plan.batch_id == batch_id, Plan.status.in_(VISIBLE_PLAN), Plan.planned > 0
                )
            )
        )
        .order_by(Specialty.code)
    )
    return list((await ctx.session.scalars(stmt)).all())


async def plan_table(
    ctx: Ctx, batch_id: int, base_id: int | None = None
) -> list[tuple[Plan, str, str]]:
    """招生计划查看: plans of a batch (optionally of one base) with base and specialty names."""
    spec = aliased(Specialty)
    stmt = (
        select(Plan, Base.name, spec.name)
        .join(Base, Base.id == Plan.base_id)
        .join(spec, spec.id == Plan.specialty_id)
        .where(Plan.batch_id == batch_id)
        .order_by(Base.name, spec.code)
    )
    if base_id is not None:
        stmt = stmt.where(Plan.base_id == base_id)
    return [(p, b, s) for p, b, s in await ctx.session.execute(stmt)]


async def filled(ctx: Ctx, batch_id: int, base_id: int, specialty_id: int) -> int:
    """Places taken at a base and specialty: admitted onwards, and open allocation offers."""
    taken = await ctx.session.scalar(
        select(func.count(Application.id)).where(
            Application.batch_id == batch_id,
            Application.base_id == base_id,
            Application.specialty_id == specialty_id,
            Application.status.in_(TAKES_PLACE),
        )
    )
    offered = await ctx.session.scalar(
        select(func.count(AllocationOffer.id))
        .join(Application, Application.id == AllocationOffer.application_id)
        .where(
            and_(
                Application.batch_id == batch_id,
                AllocationOffer.base_id == base_id,
                AllocationOffer.specialty_id == specialty_id,
                AllocationOffer.status == OfferStatus.OFFERED,
            )
        )
    )
    return int(taken or 0) + int(offered or 0)


TAKES_PLACE = tuple(
    s.value
    for s in (
        ApplicationStatus.ADMITTED,
        ApplicationStatus.SENT,
        ApplicationStatus.ACCEPTABLE,
        ApplicationStatus.ACCEPTED,
        ApplicationStatus.CONFIRMED,
    )
)


async def plan_for(
    ctx: Ctx, batch_id: int, base_id: int, specialty_id: int, *, lock: bool = False
) -> Plan | None:
    stmt = select(Plan).where(
        Plan.batch_id == batch_id,
        Plan.base_id == base_id,
        Plan.specialty_id == specialty_id,
        Plan.status.in_(VISIBLE_PLAN),
    )
    if lock:
        stmt = stmt.with_for_update()
    return (await ctx.session.scalars(stmt)).first()
