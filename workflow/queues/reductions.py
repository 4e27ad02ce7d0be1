"""Reductions waiting on a reviewer, scoped to the actor."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, func, select

from storage.models import (
    Application,
    Base,
    Reduction,
    Specialty,
    TraineeProfile,
    Training,
)
from workflow.actor import Actor, require_role, sees_base
from workflow.context import Ctx
from workflow.enums import (
    ReductionStatus,
    Role,
)
from workflow.errors import DomainError, NotFound
from workflow.queues.common import Page, forbid, paginate
from workflow.queues.trainings import training

# --- reductions -----------------------------------------------------------------------------

REVIEW_LEVEL = {
    Role.BASE: ReductionStatus.AT_BASE,
    Role.CITY: ReductionStatus.AT_CITY,
    Role.PROVINCE: ReductionStatus.AT_PROVINCE,
}


@dataclass(frozen=True)
class ReductionRow:
    id: int
    training_id: int
    application_id: int
    name: str
    id_tail: str
    base_id: int
    base_name: str
    city_id: int
    specialty_name: str | None
    years: int
    duration_years: int | None
    start_date: date | None
    end_date: date | None
    status: str
    sent_back_by: str | None
    sent_back_reason: str | None
    updated_at: datetime | None


def _reduction_select() -> Select[Any]:
    return (
        select(
            Reduction.id,
            Reduction.training_id,
            Training.application_id,
            TraineeProfile.name,
            TraineeProfile.id_tail,
            Reduction.base_id,
            Base.name,
            Reduction.city_id,
            Specialty.name,
            Reduction.years,
            Training.duration_years,
            Training.start_date,
            Training.end_date,
            Reduction.status,
            Reduction.sent_back_by,
            Reduction.sent_back_reason,
            Reduction.updated_at,
        )
        .select_from(Reduction)
        .join(Training, Training.id == Reduction.training_id)
        .join(Application, Application.id == Training.application_id)
        .join(TraineeProfile, TraineeProfile.account_id == Training.account_id)
        .join(Base, Base.id == Reduction.base_id)
        .outerjoin(Specialty, Specialty.id == Application.specialty_id)
    )


def _reduction_scope(actor: Actor) -> list[Any]:
    require_role(actor, Role.BASE, Role.CITY, Role.PROVINCE)
    if actor.role is Role.BASE:
        return [Reduction.base_id == actor.base_id]
    if actor.role is Role.CITY:
        return [Reduction.city_id == actor.city_id]
    return []


async def reductions_to_review(
    ctx: Ctx, actor: Actor, page: int = 0, size: int = 8
) -> Page[ReductionRow]:
    """The reductions waiting on this actor's level of the chain."""
    where = [*_reduction_scope(actor), Reduction.status == REVIEW_LEVEL[actor.role]]
    total = int(await ctx.session.scalar(select(func.count(Reduction.id)).where(*where)) or 0)
    page, pages = paginate(total, page, size)
    stmt = _reduction_select().where(*where).order_by(Reduction.updated_at, Reduction.id)
    rows = await ctx.session.execute(stmt.limit(size).offset(page * size))
    return Page([ReductionRow(*r) for r in rows], total, page, pages)


async def reduction(ctx: Ctx, actor: Actor, reduction_id: int) -> ReductionRow:
    row = (
        await ctx.session.execute(_reduction_select().where(Reduction.id == reduction_id))
    ).first()
    if row is None:
        raise NotFound("reduction")
    result = ReductionRow(*row)
    require_role(actor, Role.BASE, Role.CITY, Role.PROVINCE)
    if not sees_base(actor, result.base_id, result.city_id):
        raise forbid(actor)
    return result


async def reduction_of_training(ctx: Ctx, actor: Actor, training_id: int) -> ReductionRow:
    """The latest reduction of a training. Only a 1- or 2-year training has one."""
    row = await training(ctx, actor, training_id)
    if row.duration_years not in (1, 2):
        raise DomainError("reduction.only_short", years=row.duration_years)
    if row.reduction_id is None:
        raise DomainError("staff.no_reduction")
    return await reduction(ctx, actor, row.reduction_id)
