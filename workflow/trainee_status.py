"""Read-only views of a trainee's own records for the chat: their applications, the deadlines
still open on each, their allocation offers, training and reduction requests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from storage.models import AllocationOffer, Application, Batch, Reduction, Training
from workflow import catalog
from workflow.actor import Actor, require_self
from workflow.context import Ctx
from workflow.enums import ApplicationStatus, OfferStatus
from workflow.errors import NotFound


async def own_application(ctx: Ctx, actor: Actor, application_id: int) -> Application:
    """The trainee's application, or `not_found` (also for somebody else's)."""
    require_self(actor, actor.account_id)
    app = await ctx.session.get(Application, application_id)
    if app is None or app.account_id != actor.account_id:
        raise NotFound("application")
    return app


async def applications(ctx: Ctx, actor: Actor) -> list[Application]:
    """All of the trainee's applications, newest first."""
    require_self(actor, actor.account_id)
    rows = await ctx.session.scalars(
        select(Application)
        .where(Application.account_id == actor.account_id)
        .order_by(Application.created_at.desc(), Application.id.desc())
    )
    return list(rows.all())


async def open_draft(ctx: Ctx, actor: Actor) -> tuple[Application, Batch] | None:
    """The newest draft whose batch is still taking applications: what /apply resumes."""
    for app in await applications(ctx, actor):
        if ApplicationStatus(app.status) is not ApplicationStatus.DRAFT:
            continue
        batch = await ctx.get(Batch, app.batch_id)
        if catalog.batch_is_open(batch, ctx.now()):
            return app, batch
    return None


async def result_to_answer(ctx: Ctx, actor: Actor) -> Application | None:
    """The result a typed /accept or /decline is about: the newest one still answerable, else
    the newest one ever sent (so a refusal can say why), else the newest application."""
    apps = await applications(ctx, actor)
    answerable = [a for a in apps if ApplicationStatus(a.status) in _ANSWERABLE]
    sent = [a for a in apps if a.sent_at is not None]
    for group in (answerable, sent):
        if group:
            return max(group, key=lambda a: (a.sent_at or a.created_at, a.id))
    return apps[0] if apps else None


_ANSWERABLE = (ApplicationStatus.SENT, ApplicationStatus.ACCEPTABLE)


async def offers(ctx: Ctx, application_id: int) -> list[AllocationOffer]:
    rows = await ctx.session.scalars(
        select(AllocationOffer)
        .where(AllocationOffer.application_id == application_id)
        .order_by(AllocationOffer.offered_at.desc(), AllocationOffer.id.desc())
    )
    return list(rows.all())


async def own_offer(ctx: Ctx, actor: Actor, offer_id: int) -> tuple[AllocationOffer, Application]:
    offer = await ctx.session.get(AllocationOffer, offer_id)
    if offer is None:
        raise NotFound("allocation_offer")
    app = await own_application(ctx, actor, offer.application_id)
    return offer, app


@dataclass(frozen=True)
class Deadline:
    """A moment still ahead that the trainee must act by (or may act from)."""

    kind: str  # apply_end | acceptable_from | confirm_end | offer_end
    at: datetime


def open_deadlines(
    app: Application, batch: Batch, app_offers: list[AllocationOffer], now: datetime
) -> list[Deadline]:
    """Every deadline of this application still ahead, soonest first."""
    out: list[Deadline] = []
    status = ApplicationStatus(app.status)
    if status is ApplicationStatus.DRAFT and catalog.batch_is_open(batch, now):
        out.append(Deadline("apply_end", batch.apply_end))
    if status in _ANSWERABLE and app.deadline_at is not None and now <= app.deadline_at:
        if app.acceptable_at is not None and now < app.acceptable_at:
            out.append(Deadline("acceptable_from", app.acceptable_at))
        out.append(Deadline("confirm_end", app.deadline_at))
    for offer in app_offers:
        if OfferStatus(offer.status) is OfferStatus.OFFERED and now <= offer.expires_at:
            out.append(Deadline("offer_end", offer.expires_at))
    return sorted(out, key=lambda d: d.at)


async def own_training(ctx: Ctx, actor: Actor) -> Training | None:
    """The trainee's training (created at check-in), the newest if there were several."""
    require_self(actor, actor.account_id)
    return await ctx.session.scalar(
        select(Training)
        .where(Training.account_id == actor.account_id)
        .order_by(Training.created_at.desc(), Training.id.desc())
    )


async def latest_reduction(ctx: Ctx, training_id: int) -> Reduction | None:
    return await ctx.session.scalar(
        select(Reduction)
        .where(Reduction.training_id == training_id)
        .order_by(Reduction.created_at.desc(), Reduction.id.desc())
    )


async def own_reduction(ctx: Ctx, actor: Actor, reduction_id: int) -> Reduction:
    row = await ctx.session.get(Reduction, reduction_id)
    if row is None:
        raise NotFound("reduction")
    training = await ctx.session.get(Training, row.training_id)
    if training is None or training.account_id != actor.account_id:
        raise NotFound("reduction")
    return row
