"""招收管理 on the base side: pre-audit, admission, sending results, cancelling; and the
commission's 录取结果确认 and the base's check-in."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import select

from storage.models import Application, Base, Batch, Training
from workflow import catalog
from workflow.actor import Actor, require_base, require_supervisor
from workflow.audit import audit
from workflow.context import Ctx
from workflow.enums import ApplicationStatus as S
from workflow.enums import CheckIn
from workflow.errors import DomainError, NotFound
from workflow.notices import notify, notify_base_staff
from workflow.text import clean, column_limit

MAX_SEND = 20  # 发送录取结果: at most 20 trainees per action
REASON_MAX = column_limit(Application, "not_admitted_reason")


def _reason(reason: str | None) -> str:
    text = clean(reason, limit=REASON_MAX, field="reason", required=False, multiline=True)
    if not text:
        raise DomainError("reason.required")
    return text


async def _base_app(ctx: Ctx, actor: Actor, application_id: int) -> Application:
    app = await ctx.get(Application, application_id, lock=True)
    require_base(actor, app.base_id)
    return app


def _expect(app: Application, *allowed: S) -> None:
    if S(app.status) not in allowed:
        raise DomainError(
            "state.wrong", status=app.status, expected=",".join(a.value for a in allowed)
        )


def _move(ctx: Ctx, actor: Actor | None, app: Application, to: S, action: str, **kw: object) -> str:
    before = str(app.status)
    app.status = to
    app.updated_at = ctx.now()
    audit(
        ctx, actor, "application", app.id or 0, action, from_state=before, to_state=to.value, **kw
    )  # type: ignore[arg-type]
    return before


async def pre_admit(ctx: Ctx, actor: Actor, application_id: int) -> Application:
    """预录取: only for trainees the base admitted offline."""
    app = await _base_app(ctx, actor, application_id)
    _expect(app, S.SUBMITTED)
    app.pre_audited_at = ctx.now()
    _move(ctx, actor, app, S.PRE_ADMITTED, "pre_admit")
    await notify(ctx, app.account_id, "pre_admitted", f"application:{app.id}", occurrence=ctx.now())
    return app


async def reject(ctx: Ctx, actor: Actor, application_id: int, reason: str | None) -> Application:
    """不录取, with a reason the trainee reads."""
    app = await _base_app(ctx, actor, application_id)
    _expect(app, S.SUBMITTED, S.PRE_ADMITTED)
    text = _reason(reason)
    app.not_admitted_reason = text
    app.pre_audited_at = ctx.now()
    _move(ctx, actor, app, S.NOT_ADMITTED, "reject", reason=text)
    await notify(ctx, app.account_id, "not_admitted", f"application:{app.id}", occurrence=ctx.now())
    return app


async def cancel_pre_admission(ctx: Ctx, actor: Actor, application_id: int) -> Application:
    """取消预录取: back to the queue."""
    app = await _base_app(ctx, actor, application_id)
    _expect(app, S.PRE_ADMITTED)
    _move(ctx, actor, app, S.SUBMITTED, "cancel_pre_admission")
    # The trainee was told of the pre-admission, so they are told it was withdrawn.
    subject = f"application:{app.id}"
    await notify(ctx, app.account_id, "pre_admission_cancelled", subject, occurrence=ctx.now())
    return app


async def admit(ctx: Ctx, actor: Actor, application_id: int) -> Application:
    """基地录取: one trainee per action, never beyond the approved plan."""
    app = await _base_app(ctx, actor, application_id)
    _expect(app, S.PRE_ADMITTED)
    plan = await catalog.plan_for(ctx, app.batch_id, app.base_id, app.specialty_id, lock=True)  # type: ignore[arg-type]
    taken = await catalog.filled(ctx, app.batch_id, app.base_id, app.specialty_id)  # type: ignore[arg-type]
    if plan is None or taken >= plan.planned:
        raise DomainError("admit.plan_full", planned=plan.planned if plan else 0)
    app.admitted_at = ctx.now()
    _move(ctx, actor, app, S.ADMITTED, "admit")
    return app


async def send_results(ctx: Ctx, actor: Actor, application_ids: Sequence[int]) -> list[Application]:
    """发送录取结果 to at most 20 admitted trainees at once; all of them or none.

    The lock period starts now; the result becomes acceptable when it ends, inside the batch's
    confirmation period. A result that could never be accepted in that period is not sent.
    """
    ids = list(dict.fromkeys(application_ids))
    if not ids:
        raise DomainError("send.none")
    if len(ids) > MAX_SEND:
        raise DomainError("send.too_many", max=MAX_SEND, count=len(ids))
    apps = list(
        (
            await ctx.session.scalars(
                select(Application)
                .where(Application.id.in_(ids))
                .order_by(Application.id)
                .with_for_update()
            )
        ).all()
    )
    if len(apps) != len(ids):
        raise NotFound("application")
    batches: dict[int, Batch] = {}
    now = ctx.now()
    for app in apps:
        require_base(actor, app.base_id)
        _expect(app, S.ADMITTED)
        batch = batches.get(app.batch_id) or await ctx.get(Batch, app.batch_id)
        batches[app.batch_id] = batch
        if now + timedelta(hours=batch.lock_hours) >= batch.confirm_end:
            raise DomainError("send.window_closed", end=batch.confirm_end)
    for app in apps:
        batch = batches[app.batch_id]
        app.sent_at = now
        app.acceptable_at = max(now + timedelta(hours=batch.lock_hours), batch.confirm_start)
        app.deadline_at = batch.confirm_end
        _move(ctx, actor, app, S.SENT, "send_result")
        await notify(
            ctx,
            app.account_id,
            "result_sent",
            f"application:{app.id}",
            occurrence=now,
            acceptable_at=app.acceptable_at.isoformat(),
            deadline=app.deadline_at,
        )
    return apps


async def cancel_admission(ctx: Ctx, actor: Actor, application_id: int) -> Application:
    """取消录取: only inside the lock period; the result must then be sent again."""
    app = await _base_app(ctx, actor, application_id)
    _expect(app, S.SENT, S.ACCEPTABLE)
    if app.acceptable_at is None or ctx.now() >= app.acceptable_at:
        raise DomainError("cancel.lock_passed", at=app.acceptable_at)
    app.sent_at = app.acceptable_at = app.deadline_at = app.admitted_at = None
    _move(ctx, actor, app, S.PRE_ADMITTED, "cancel_admission")
    await notify(
        ctx, app.account_id, "result_cancelled", f"application:{app.id}", occurrence=ctx.now()
    )
    return app


async def confirm_result(ctx: Ctx, actor: Actor, application_id: int) -> Application:
    """录取结果确认 by the supervising commission of the base; the base is told."""
    app = await ctx.get(Application, application_id, lock=True)
    base = await ctx.session.get(Base, app.base_id)
    if base is None:
        raise NotFound("base")
    require_supervisor(actor, base.supervisor, base.city_id)
    _expect(app, S.ACCEPTED)
    app.confirmed_at = ctx.now()
    app.confirmed_by = actor.account_id
    _move(ctx, actor, app, S.CONFIRMED, "confirm_result")
    subject = f"application:{app.id}"
    await notify(ctx, app.account_id, "result_confirmed", subject, occurrence=ctx.now())
    await notify_base_staff(ctx, base.id, "base_result_confirmed", subject, occurrence=ctx.now())  # type: ignore[arg-type]
    return app


async def check_in(ctx: Ctx, actor: Actor, application_id: int, reported: bool) -> Application:
    """学员报到管理: 已报到 / 未报到, only after the result was confirmed."""
    app = await _base_app(ctx, actor, application_id)
    if S(app.status) is not S.CONFIRMED:
        raise DomainError("checkin.not_confirmed")
    before = app.checkin
    app.checkin = CheckIn.REPORTED if reported else CheckIn.NOT_REPORTED
    app.checkin_at = app.updated_at = ctx.now()
    if reported:
        exists = await ctx.session.scalar(
            select(Training.id).where(Training.application_id == app.id)
        )
        if exists is None:
            ctx.session.add(
                Training(
                    application_id=app.id,  # type: ignore[arg-type]
                    account_id=app.account_id,
                    base_id=app.base_id,  # type: ignore[arg-type]
                    created_at=ctx.now(),
                    updated_at=ctx.now(),
                )
            )
    else:
        training = await ctx.session.scalar(
            select(Training).where(Training.application_id == app.id)
        )
        if training is not None and training.duration_years is not None:
            raise DomainError("checkin.training_started")
        if training is not None:
            await ctx.session.delete(training)
    audit(
        ctx,
        actor,
        "application",
        app.id or 0,
        "check_in",
        from_state=str(before) if before else None,
        to_state=str(app.checkin),
    )
    await notify(
        ctx,
        app.account_id,
        "checked_in",
        f"application:{app.id}",
        occurrence=ctx.now(),
        reported=reported,
    )
    return app
