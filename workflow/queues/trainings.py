"""Training years of checked-in trainees, scoped to the actor."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import aliased

from storage.models import (
    Application,
    Base,
    Batch,
    Reduction,
    Specialty,
    TraineeProfile,
    Training,
)
from workflow.actor import Actor, require_role, sees_base
from workflow.context import Ctx
from workflow.enums import (
    Role,
)
from workflow.errors import NotFound
from workflow.queues.common import EXPORT_MAX, Page, forbid, order_key, paginate, text_clause

# --- training years -------------------------------------------------------------------------


@dataclass(frozen=True)
class TrainingFilter:
    batch_id: int | None = None
    specialty_id: int | None = None
    text: str | None = None
    years: int | None = None
    order: str | None = None  # a key of TRAINING_ORDER, "-" first for descending

    @classmethod
    def of(cls, data: dict[str, Any] | None) -> TrainingFilter:
        data = data or {}
        years = data.get("x")
        years = int(years) if str(years or "").isdigit() else None  # the chat keeps "1" … "3"
        return cls(data.get("b"), data.get("s"), data.get("q"), years, data.get("o"))

    def dump(self) -> dict[str, Any]:
        return {
            "b": self.batch_id,
            "s": self.specialty_id,
            "q": self.text,
            "x": self.years,
            "o": self.order,
        }


TRAINING_ORDER: dict[str, Any] = {
    "id": Training.id,
    "name": TraineeProfile.name,
    "tail": TraineeProfile.id_tail,
    "specialty": Specialty.code,
    "years": Training.duration_years,
    "start": Training.start_date,
    "end": Training.end_date,
}


def _order_by(order: str | None) -> list[Any]:
    column, descending = order_key(TRAINING_ORDER, order)
    if column is None:
        return [Training.id]
    return [column.desc() if descending else column.asc(), Training.id]


@dataclass(frozen=True)
class TrainingRow:
    id: int
    application_id: int
    account_id: int
    name: str
    id_tail: str
    batch_name: str
    cohort_year: int
    specialty_name: str | None
    duration_years: int | None
    start_date: date | None
    end_date: date | None
    status: str
    reduction_applied_at: datetime | None
    reduction_id: int | None
    reduction_status: str | None
    base_id: int
    city_id: int
    id_number_enc: bytes | None = None


def _latest_reduction() -> Any:
    return (
        select(Reduction.training_id, func.max(Reduction.id).label("rid"))
        .group_by(Reduction.training_id)
        .subquery()
    )


def _training_select(with_id: bool = False) -> tuple[Select[Any], Any]:
    latest = _latest_reduction()
    red = aliased(Reduction)
    cols = [
        Training.id,
        Training.application_id,
        Training.account_id,
        TraineeProfile.name,
        TraineeProfile.id_tail,
        Batch.name,
        Batch.cohort_year,
        Specialty.name,
        Training.duration_years,
        Training.start_date,
        Training.end_date,
        Training.status,
        Training.reduction_applied_at,
        red.id,
        red.status,
        Training.base_id,
        Base.city_id,
    ]
    if with_id:
        cols.append(TraineeProfile.id_number_enc)
    stmt = (
        select(*cols)
        .select_from(Training)
        .join(Application, Application.id == Training.application_id)
        .join(TraineeProfile, TraineeProfile.account_id == Training.account_id)
        .join(Batch, Batch.id == Application.batch_id)
        .join(Base, Base.id == Training.base_id)
        .outerjoin(Specialty, Specialty.id == Application.specialty_id)
        .outerjoin(latest, latest.c.training_id == Training.id)
        .outerjoin(red, red.id == latest.c.rid)
    )
    return stmt, red


def _training_where(actor: Actor, filt: TrainingFilter) -> list[Any]:
    require_role(actor, Role.BASE)
    where: list[Any] = [Training.base_id == actor.base_id]
    if filt.batch_id:
        where.append(Application.batch_id == filt.batch_id)
    if filt.specialty_id:
        where.append(Application.specialty_id == filt.specialty_id)
    if filt.years in (1, 2, 3):
        where.append(Training.duration_years == filt.years)
    clause = text_clause(filt.text)
    if clause is not None:
        where.append(clause)
    return where


async def trainings(
    ctx: Ctx, actor: Actor, filt: TrainingFilter, page: int = 0, size: int = 8
) -> Page[TrainingRow]:
    """培训年限管理: the base's checked-in trainees."""
    where = _training_where(actor, filt)
    total = int(
        await ctx.session.scalar(
            select(func.count(Training.id))
            .select_from(Training)
            .join(Application, Application.id == Training.application_id)
            .join(TraineeProfile, TraineeProfile.account_id == Training.account_id)
            .where(*where)
        )
        or 0
    )
    page, pages = paginate(total, page, size)
    stmt, _ = _training_select()
    stmt = stmt.where(*where).order_by(*_order_by(filt.order)).limit(size).offset(page * size)
    return Page([TrainingRow(*r) for r in await ctx.session.execute(stmt)], total, page, pages)


async def all_trainings(
    ctx: Ctx, actor: Actor, filt: TrainingFilter, *, with_id: bool = False
) -> list[TrainingRow]:
    stmt, _ = _training_select(with_id)
    stmt = stmt.where(*_training_where(actor, filt)).order_by(*_order_by(filt.order))
    stmt = stmt.limit(EXPORT_MAX)
    return [TrainingRow(*r) for r in await ctx.session.execute(stmt)]


async def training(ctx: Ctx, actor: Actor, training_id: int) -> TrainingRow:
    stmt, _ = _training_select()
    row = (await ctx.session.execute(stmt.where(Training.id == training_id))).first()
    if row is None:
        raise NotFound("training")
    result = TrainingRow(*row)
    require_role(actor, Role.BASE, Role.CITY, Role.PROVINCE)
    if not sees_base(actor, result.base_id, result.city_id):
        raise forbid(actor)
    return result
