"""Plans, free places and the reference lists the staff pick from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, select

from storage.models import (
    AllocationOffer,
    Application,
    Base,
    Batch,
    Plan,
    Specialty,
)
from workflow import catalog
from workflow.actor import Actor, require_role
from workflow.context import Ctx
from workflow.enums import (
    OfferStatus,
    PlanStatus,
    Role,
)
from workflow.queues.common import Page, paginate
from workflow.search import pinyin_key

# --- plans and free places ------------------------------------------------------------------


@dataclass(frozen=True)
class PlanRow:
    id: int
    batch_id: int
    batch_name: str
    base_id: int
    base_name: str
    specialty_id: int
    specialty_name: str
    declared: int | None
    planned: int
    status: str
    reason: str | None


def _plan_scope(actor: Actor) -> list[Any]:
    require_role(actor, Role.BASE, Role.CITY, Role.PROVINCE)
    if actor.role is Role.BASE:
        return [Plan.base_id == actor.base_id]
    if actor.role is Role.CITY:
        return [Base.city_id == actor.city_id]
    return []


async def plans(
    ctx: Ctx,
    actor: Actor,
    batch_id: int | None,
    *,
    declared_only: bool = False,
    page: int = 0,
    size: int = 10,
) -> Page[PlanRow]:
    """招生计划查看 in the actor's scope; `declared_only`: what waits for the province."""
    where = _plan_scope(actor)
    if batch_id:
        where.append(Plan.batch_id == batch_id)
    if declared_only:
        where.append(Plan.status == PlanStatus.DECLARED)
    base_q = select(Plan).join(Base, Base.id == Plan.base_id).where(*where)
    total = int(await ctx.session.scalar(select(func.count()).select_from(base_q.subquery())) or 0)
    page, pages = paginate(total, page, size)
    stmt = (
        select(
            Plan.id,
            Plan.batch_id,
            Batch.name,
            Plan.base_id,
            Base.name,
            Plan.specialty_id,
            Specialty.name,
            Plan.declared,
            Plan.planned,
            Plan.status,
            Plan.reason,
        )
        .join(Base, Base.id == Plan.base_id)
        .join(Specialty, Specialty.id == Plan.specialty_id)
        .join(Batch, Batch.id == Plan.batch_id)
        .where(*where)
        .order_by(Plan.batch_id.desc(), Base.name, Specialty.code)
        .limit(size)
        .offset(page * size)
    )
    return Page([PlanRow(*r) for r in await ctx.session.execute(stmt)], total, page, pages)


@dataclass(frozen=True)
class FreePlace:
    base_id: int
    base_name: str
    specialty_id: int
    specialty_name: str
    planned: int
    taken: int

    @property
    def free(self) -> int:
        return self.planned - self.taken


async def free_places(ctx: Ctx, actor: Actor, batch_id: int) -> list[FreePlace]:
    """Plan places of a batch not yet taken (admitted onwards, or held by an open offer); a
    base sees its own, the province every base's. One grouped statement."""
    require_role(actor, Role.BASE, Role.PROVINCE)
    taken = (
        select(
            Application.base_id.label("base_id"),
            Application.specialty_id.label("specialty_id"),
            func.count(Application.id).label("n"),
        )
        .where(Application.batch_id == batch_id, Application.status.in_(catalog.TAKES_PLACE))
        .group_by(Application.base_id, Application.specialty_id)
        .subquery()
    )
    offered = (
        select(
            AllocationOffer.base_id.label("base_id"),
            AllocationOffer.specialty_id.label("specialty_id"),
            func.count(AllocationOffer.id).label("n"),
        )
        .join(Application, Application.id == AllocationOffer.application_id)
        .where(Application.batch_id == batch_id, AllocationOffer.status == OfferStatus.OFFERED)
        .group_by(AllocationOffer.base_id, AllocationOffer.specialty_id)
        .subquery()
    )
    used = func.coalesce(taken.c.n, 0) + func.coalesce(offered.c.n, 0)
    stmt = (
        select(Plan.base_id, Base.name, Plan.specialty_id, Specialty.name, Plan.planned, used)
        .join(Base, Base.id == Plan.base_id)
        .join(Specialty, Specialty.id == Plan.specialty_id)
        .outerjoin(
            taken,
            and_(taken.c.base_id == Plan.base_id, taken.c.specialty_id == Plan.specialty_id),
        )
        .outerjoin(
            offered,
            and_(offered.c.base_id == Plan.base_id, offered.c.specialty_id == Plan.specialty_id),
        )
        .where(
            Plan.batch_id == batch_id,
            Plan.status.in_(catalog.VISIBLE_PLAN),
            Plan.planned > used,
        )
        .order_by(Base.name, Specialty.code)
    )
    if actor.role is Role.BASE:
        stmt = stmt.where(Plan.base_id == actor.base_id)
    return [FreePlace(*r) for r in await ctx.session.execute(stmt)]


async def sites_of(ctx: Ctx, base_id: int) -> list[Base]:
    rows = await ctx.session.scalars(
        select(Base).where(Base.parent_id == base_id).order_by(Base.name, Base.id)
    )
    return list(rows.all())


async def national_bases(ctx: Ctx, page: int = 0, size: int = 8) -> Page[Base]:
    from storage.models import City
    from workflow.enums import BaseKind

    where = [Base.kind == BaseKind.NATIONAL]
    total = int(await ctx.session.scalar(select(func.count(Base.id)).where(*where)) or 0)
    page, pages = paginate(total, page, size)
    # By city, then by pinyin: the order is computed here, the list is the province's size.
    pairs = (await ctx.session.execute(select(Base, City.code).join(City).where(*where))).all()
    ordered = sorted(pairs, key=lambda p: (p[1], pinyin_key(p[0].name)))
    return Page([b for b, _ in ordered[page * size : (page + 1) * size]], total, page, pages)


async def specialties(
    ctx: Ctx, program: str | None = None, page: int = 0, size: int = 8
) -> Page[Specialty]:
    where = [Specialty.program == program] if program else []
    total = int(await ctx.session.scalar(select(func.count(Specialty.id)).where(*where)) or 0)
    page, pages = paginate(total, page, size)
    rows = await ctx.session.scalars(
        select(Specialty).where(*where).order_by(Specialty.code).limit(size).offset(page * size)
    )
    return Page(list(rows.all()), total, page, pages)


async def batches(ctx: Ctx, page: int = 0, size: int = 8) -> Page[Batch]:
    total = int(await ctx.session.scalar(select(func.count(Batch.id))) or 0)
    page, pages = paginate(total, page, size)
    rows = await ctx.session.scalars(
        select(Batch)
        .order_by(Batch.apply_start.desc(), Batch.id.desc())
        .limit(size)
        .offset(page * size)
    )
    return Page(list(rows.all()), total, page, pages)


async def scope_label(ctx: Ctx, actor: Actor) -> str | None:
    """The name of the base or city an account belongs to."""
    from storage.models import City

    if actor.base_id is not None:
        return await ctx.session.scalar(select(Base.name).where(Base.id == actor.base_id))
    if actor.city_id is not None:
        return await ctx.session.scalar(select(City.name).where(City.id == actor.city_id))
    return None
