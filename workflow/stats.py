"""Numbers at a glance: per specialty of a batch, the plan against applicants, pre-admitted,
admitted, sent, accepted and confirmed, for the bases in the actor's scope. One statement."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, func, or_, select

from storage.models import Application, Base, Plan, Specialty
from workflow import catalog
from workflow.actor import Actor, require_role
from workflow.context import Ctx
from workflow.enums import ApplicationStatus as S
from workflow.enums import Role

# Each count is "reached this stage", whatever happened after (a declined result was sent).
PRE_ADMITTED_ON = (
    S.PRE_ADMITTED,
    S.ADMITTED,
    S.SENT,
    S.ACCEPTABLE,
    S.ACCEPTED,
    S.DECLINED,
    S.EXPIRED,
    S.CONFIRMED,
)
ADMITTED_ON = PRE_ADMITTED_ON[1:]
ACCEPTED_ON = (S.ACCEPTED, S.CONFIRMED)
COLUMNS = ("planned", "applicants", "pre_admitted", "admitted", "sent", "accepted", "confirmed")


@dataclass(frozen=True)
class StatRow:
    specialty_id: int
    specialty: str
    planned: int
    applicants: int
    pre_admitted: int
    admitted: int
    sent: int
    accepted: int
    confirmed: int

    def values(self) -> tuple[int, ...]:
        return tuple(getattr(self, c) for c in COLUMNS)


def _scope(actor: Actor) -> list:  # type: ignore[type-arg]
    require_role(actor, Role.BASE, Role.CITY, Role.PROVINCE)
    if actor.role is Role.BASE:
        return [Base.id == actor.base_id]
    if actor.role is Role.CITY:
        return [Base.city_id == actor.city_id]
    return []


def _n(statuses: tuple[S, ...]):  # type: ignore[no-untyped-def]
    return func.sum(case((Application.status.in_([s.value for s in statuses]), 1), else_=0))


async def per_specialty(ctx: Ctx, actor: Actor, batch_id: int) -> list[StatRow]:
    scope = _scope(actor)
    counts = (
        select(
            Application.specialty_id.label("sid"),
            func.count(Application.id).label("applicants"),
            _n(PRE_ADMITTED_ON).label("pre_admitted"),
            _n(ADMITTED_ON).label("admitted"),
            func.sum(case((Application.sent_at.is_not(None), 1), else_=0)).label("sent"),
            _n(ACCEPTED_ON).label("accepted"),
            _n((S.CONFIRMED,)).label("confirmed"),
        )
        .join(Base, Base.id == Application.base_id)
        .where(
            Application.batch_id == batch_id,
            Application.status != S.DRAFT,
            *scope,
        )
        .group_by(Application.specialty_id)
        .subquery()
    )
    plans = (
        select(Plan.specialty_id.label("sid"), func.sum(Plan.planned).label("planned"))
        .join(Base, Base.id == Plan.base_id)
        .where(Plan.batch_id == batch_id, Plan.status.in_(catalog.VISIBLE_PLAN), *scope)
        .group_by(Plan.specialty_id)
        .subquery()
    )

    def z(col):  # type: ignore[no-untyped-def]
        return func.coalesce(col, 0)

    stmt = (
        select(
            Specialty.id,
            Specialty.name,
            z(plans.c.planned),
            z(counts.c.applicants),
            z(counts.c.pre_admitted),
            z(counts.c.admitted),
            z(counts.c.sent),
            z(counts.c.accepted),
            z(counts.c.confirmed),
        )
        .outerjoin(plans, plans.c.sid == Specialty.id)
        .outerjoin(counts, counts.c.sid == Specialty.id)
        .where(or_(plans.c.sid.is_not(None), counts.c.sid.is_not(None)))
        .order_by(Specialty.code)
    )
    return [
        StatRow(*(int(v) if i > 1 else v for i, v in enumerate(r)))
        for r in await ctx.session.execute(stmt)
    ]  # type: ignore[arg-type]


def totals(rows: list[StatRow]) -> tuple[int, ...]:
    return tuple(sum(r.values()[i] for r in rows) for i in range(len(COLUMNS)))
