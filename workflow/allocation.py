"""学员调配: a free plan place offered to a trainee who accepted reassignment and was not
admitted; they accept or refuse within the batch's offer period."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.exc import IntegrityError

from storage.models import AllocationOffer, Application, Base, Batch, Specialty
from workflow import catalog
from workflow.actor import Actor, require_role, require_self
from workflow.audit import audit
from workflow.context import Ctx
from workflow.enums import ApplicationStatus, BaseKind, OfferStatus, Program, Role
from workflow.errors import DomainError, NotFound
from workflow.notices import notify, notify_base_staff


async def offer(
    ctx: Ctx, actor: Actor, application_id: int, base_id: int, site_id: int, specialty_id: int
) -> AllocationOffer:
    require_role(actor, Role.PROVINCE, Role.BASE)
    if actor.role is Role.BASE and actor.base_id != base_id:
        raise DomainError("forbidden.other_base")
    app = await ctx.get(Application, application_id, lock=True)
    if ApplicationStatus(app.status) is not ApplicationStatus.NOT_ADMITTED:
        raise DomainError("alloc.not_eligible")
    if not app.accept_reassignment:
        raise DomainError("alloc.no_reassignment")
    batch = await ctx.get(Batch, app.batch_id)
    base = await ctx.session.get(Base, base_id)
    site = await ctx.session.get(Base, site_id)
    spec = await ctx.session.get(Specialty, specialty_id)
    if base is None or base.kind != BaseKind.NATIONAL or site is None or site.parent_id != base_id:
        raise NotFound("base")
    if spec is None or Program(spec.program) != Program(batch.program):
        raise NotFound("specialty")
    plan = await catalog.plan_for(ctx, batch.id, base_id, specialty_id, lock=True)  # type: ignore[arg-type]
    if plan is None or await catalog.filled(ctx, batch.id, base_id, specialty_id) >= plan.planned:  # type: ignore[arg-type]
        raise DomainError("alloc.no_place")
    now = ctx.now()
    row = AllocationOffer(
        application_id=application_id,
        base_id=base_id,
        site_id=site_id,
        specialty_id=specialty_id,
        offered_by=actor.account_id,
        offered_at=now,
        expires_at=now + timedelta(hours=batch.offer_hours),
    )
    try:
        # Added inside the savepoint: begin_nested() flushes pending rows before it opens the
        # savepoint, and a failure there would abort the whole transaction.
        async with ctx.session.begin_nested():
            ctx.session.add(row)
    except IntegrityError as exc:
        raise DomainError("alloc.offer_open") from exc
    audit(
        ctx,
        actor,
        "allocation_offer",
        row.id or 0,
        "offer",
        to_state="offered",
        application_id=application_id,
    )
    await notify(
        ctx,
        app.account_id,
        "allocation_offer",
        f"offer:{row.id}",
        occurrence=now,
        deadline=row.expires_at,
        urgent=True,
    )
    return row


async def answer(ctx: Ctx, actor: Actor, offer_id: int, accept: bool) -> AllocationOffer:
    """The trainee's answer. An accepted offer becomes an admission (基地录取) at the new place,
    which then follows the normal path: the base sends the result."""
    require_self(actor, actor.account_id)
    row = await ctx.get(AllocationOffer, offer_id, lock=True)
    app = await ctx.get(Application, row.application_id, lock=True)
    if app.account_id != actor.account_id:
        raise NotFound("allocation_offer")
    if OfferStatus(row.status) is not OfferStatus.OFFERED:
        raise DomainError("alloc.answered", status=row.status)
    now = ctx.now()
    if row.expires_at is not None and now > row.expires_at:
        raise DomainError("alloc.offer_expired", end=row.expires_at)
    if accept:
        # The offer held its place, so the plan still has room for it.
        app.base_id, app.site_id = row.base_id, row.site_id
        app.specialty_id = app.intended_specialty_id = row.specialty_id
        app.admitted_at = app.updated_at = now
        app.not_admitted_reason = None
        app.status = ApplicationStatus.ADMITTED
        audit(
            ctx,
            actor,
            "application",
            app.id or 0,
            "allocation_accepted",
            from_state="not_admitted",
            to_state="admitted",
        )
        await notify_base_staff(
            ctx, row.base_id, "base_allocation_accepted", f"offer:{row.id}", occurrence=now
        )
    row.status = OfferStatus.ACCEPTED if accept else OfferStatus.REFUSED
    row.answered_at = now
    audit(
        ctx,
        actor,
        "allocation_offer",
        row.id or 0,
        "answer",
        from_state="offered",
        to_state=str(row.status),
    )
    return row


async def expire_offer(ctx: Ctx, offer_id: int) -> AllocationOffer | None:
    """Timed: an unanswered offer lapses and its place is free again."""
    row = await ctx.get(AllocationOffer, offer_id, lock=True)
    if OfferStatus(row.status) is not OfferStatus.OFFERED or row.expires_at is None:
        return None
    if ctx.now() <= row.expires_at:
        return None
    row.status = OfferStatus.EXPIRED
    row.answered_at = ctx.now()
    audit(
        ctx,
        None,
        "allocation_offer",
        row.id or 0,
        "expire",
        from_state="offered",
        to_state="expired",
    )
    return row
