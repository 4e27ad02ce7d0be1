"""What a returning user should do next, for /start: a trainee's one next step (the most urgent
first), and for staff the count of what waits in each section of the work menu."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from storage.models import (
    AllocationOffer,
    Application,
    Base,
    Batch,
    ChangeRequest,
    Plan,
    Reduction,
    Training,
)
from workflow import catalog, profile, results, trainee_status
from workflow.actor import Actor, require_role, require_self
from workflow.context import Ctx
from workflow.enums import ApplicationStatus as S
from workflow.enums import (
    ChangeStatus,
    OfferStatus,
    PlanStatus,
    ReductionStatus,
    Role,
    Supervisor,
    TrainingStatus,
)

IN_PROGRESS = (S.SUBMITTED, S.PRE_ADMITTED, S.ADMITTED, S.ACCEPTED)


@dataclass(frozen=True)
class NextStep:
    """kind: offer | answer | answer_later | resume | profile | years | apply | wait | none."""

    kind: str
    application_id: int | None = None
    offer_id: int | None = None
    at: datetime | None = None
    batch: str | None = None


async def trainee_next(ctx: Ctx, actor: Actor) -> NextStep:
    require_self(actor, actor.account_id)
    now = ctx.now()
    apps = await trainee_status.applications(ctx, actor)
    ids = [a.id for a in apps]
    if ids:
        offer = await ctx.session.scalar(
            select(AllocationOffer)
            .where(
                AllocationOffer.application_id.in_(ids),
                AllocationOffer.status == OfferStatus.OFFERED,
                AllocationOffer.expires_at >= now,
            )
            .order_by(AllocationOffer.expires_at)
        )
        if offer is not None:
            return NextStep("offer", offer.application_id, offer.id, offer.expires_at)
    batches = {a.batch_id: await ctx.get(Batch, a.batch_id) for a in apps}
    for app in apps:
        if S(app.status) not in (S.SENT, S.ACCEPTABLE) or app.deadline_at is None:
            continue
        batch = batches[app.batch_id]
        if results.can_answer(app, batch, now):
            return NextStep("answer", app.id, at=app.deadline_at, batch=batch.name)
        if app.acceptable_at is not None and now < app.acceptable_at:
            return NextStep("answer_later", app.id, at=app.acceptable_at, batch=batch.name)
    draft = await trainee_status.open_draft(ctx, actor)
    if draft is not None:
        app, batch = draft
        return NextStep("resume", app.id, at=batch.apply_end, batch=batch.name)
    view = await profile.view(ctx, actor)
    if not view.completeness.complete:
        return NextStep("profile")
    training = await trainee_status.own_training(ctx, actor)
    if (
        training is not None
        and training.duration_years is None
        and TrainingStatus(training.status) is TrainingStatus.IN_TRAINING
    ):
        return NextStep("years")
    in_progress = [a for a in apps if S(a.status) in IN_PROGRESS]
    if in_progress:
        app = in_progress[0]
        return NextStep("wait", app.id, batch=batches[app.batch_id].name)
    account_program = await _program(ctx, actor)
    open_ = [v.batch for v in await catalog.batches(ctx, account_program) if v.is_open(now)]
    applied = set(batches)
    to_apply = sorted((b for b in open_ if b.id not in applied), key=lambda b: b.apply_end)
    if to_apply and not any(S(a.status) is S.CONFIRMED for a in apps):
        return NextStep("apply", at=to_apply[0].apply_end, batch=to_apply[0].name)
    return NextStep("none")


async def _program(ctx: Ctx, actor: Actor) -> Any:
    from storage.models import Account

    account = await ctx.get(Account, actor.account_id)
    return account.program


async def staff_waiting(ctx: Ctx, actor: Actor) -> dict[str, int]:
    """Per section of the work menu, how many records wait for this account's action."""
    require_role(actor, Role.BASE, Role.CITY, Role.PROVINCE)
    a = Application

    async def count(stmt: Any) -> int:
        return int(await ctx.session.scalar(stmt) or 0)

    if actor.role is Role.BASE:
        base = actor.base_id

        def apps(*where: Any) -> Any:
            return select(func.count()).select_from(a).where(a.base_id == base, *where)

        return {
            "pre": await count(apps(a.status == S.SUBMITTED)),
            "adm": await count(apps(a.status.in_([S.PRE_ADMITTED, S.ADMITTED]))),
            "chk": await count(apps(a.status == S.CONFIRMED, a.checkin.is_(None))),
            "yrs": await count(
                select(func.count())
                .select_from(Training)
                .where(
                    Training.base_id == base,
                    Training.duration_years.is_(None),
                    Training.status == TrainingStatus.IN_TRAINING,
                )
            ),
            "red": await count(
                select(func.count())
                .select_from(Reduction)
                .where(Reduction.base_id == base, Reduction.status == ReductionStatus.AT_BASE)
            ),
        }
    if actor.role is Role.CITY:
        city = actor.city_id
        return {
            "cnf": await count(
                select(func.count())
                .select_from(a)
                .join(Base, Base.id == a.base_id)
                .where(
                    a.status == S.ACCEPTED,
                    Base.city_id == city,
                    Base.supervisor == Supervisor.CITY,
                )
            ),
            "red": await count(
                select(func.count())
                .select_from(Reduction)
                .where(Reduction.city_id == city, Reduction.status == ReductionStatus.AT_CITY)
            ),
            "chg": await count(
                select(func.count())
                .select_from(ChangeRequest)
                .join(Base, Base.id == ChangeRequest.base_id)
                .where(ChangeRequest.status == ChangeStatus.PENDING, Base.city_id == city)
            ),
        }
    return {
        "review": await count(
            select(func.count()).select_from(Plan).where(Plan.status == PlanStatus.DECLARED)
        ),
        "cnf": await count(
            select(func.count())
            .select_from(a)
            .join(Base, Base.id == a.base_id)
            .where(a.status == S.ACCEPTED, Base.supervisor == Supervisor.PROVINCE)
        ),
        "red": await count(
            select(func.count())
            .select_from(Reduction)
            .where(Reduction.status == ReductionStatus.AT_PROVINCE)
        ),
    }
