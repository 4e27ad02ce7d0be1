"""学员确认录取结果: the trainee's answer to a sent result, and the timed transitions around it."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from storage.models import Application, Batch
from workflow.actor import Actor, require_self
from workflow.audit import audit
from workflow.context import Ctx
from workflow.enums import HOLDS_ADMISSION
from workflow.enums import ApplicationStatus as S
from workflow.errors import DomainError, NotFound
from workflow.notices import notify, notify_base_staff

ANSWERABLE = (S.SENT, S.ACCEPTABLE)


async def _own_result(ctx: Ctx, actor: Actor, application_id: int) -> tuple[Application, Batch]:
    require_self(actor, actor.account_id)
    app = await ctx.get(Application, application_id, lock=True)
    if app.account_id != actor.account_id:
        raise NotFound("application")
    return app, await ctx.get(Batch, app.batch_id)


def check_window(app: Application, batch: Batch, now) -> None:  # type: ignore[no-untyped-def]
    """A result can be answered after the lock period and inside the confirmation period."""
    if S(app.status) in {S.ACCEPTED, S.CONFIRMED}:
        raise DomainError("accept.already_accepted")
    if S(app.status) is S.DECLINED:
        raise DomainError("accept.already_declined")
    if S(app.status) is S.EXPIRED or (
        S(app.status) in ANSWERABLE and app.deadline_at is not None and now > app.deadline_at
    ):
        raise DomainError("accept.window_closed", start=app.acceptable_at, end=app.deadline_at)
    if S(app.status) not in ANSWERABLE or app.acceptable_at is None:
        raise DomainError("accept.no_result")
    if now < app.acceptable_at:
        raise DomainError("accept.locked", start=app.acceptable_at, end=app.deadline_at)


def can_answer(app: Application, batch: Batch, now) -> bool:  # type: ignore[no-untyped-def]
    try:
        check_window(app, batch, now)
    except DomainError:
        return False
    return True


async def accept(ctx: Ctx, actor: Actor, application_id: int) -> Application:
    """接受: at most one accepted admission per trainee and cohort year, across all batches."""
    app, batch = await _own_result(ctx, actor, application_id)
    check_window(app, batch, ctx.now())
    other = await ctx.session.scalar(
        select(Application.id).where(
            Application.account_id == app.account_id,
            Application.cohort_year == app.cohort_year,
            Application.status.in_([s.value for s in HOLDS_ADMISSION]),
            Application.id != app.id,
        )
    )
    if other is not None:
        raise DomainError("accept.second_admission", year=app.cohort_year)
    before, year = str(app.status), app.cohort_year
    try:
        # Changed inside the savepoint: begin_nested() flushes pending changes before it opens
        # the savepoint, and a failure there would abort the whole transaction.
        async with ctx.session.begin_nested():
            app.status = S.ACCEPTED
            app.answered_at = app.updated_at = ctx.now()
    except IntegrityError as exc:  # the database's one-admission-per-year index
        # The rollback expired `app`: reading it now would need a lazy load.
        raise DomainError("accept.second_admission", year=year) from exc
    audit(ctx, actor, "application", app.id or 0, "accept", from_state=before, to_state="accepted")
    await notify_base_staff(
        ctx, app.base_id, "base_result_accepted", f"application:{app.id}", occurrence=ctx.now()
    )  # type: ignore[arg-type]
    return app


async def decline(ctx: Ctx, actor: Actor, application_id: int) -> Application:
    """The trainee declines the result (after confirming in the chat). Final."""
    app, batch = await _own_result(ctx, actor, application_id)
    check_window(app, batch, ctx.now())
    before = str(app.status)
    app.status = S.DECLINED
    app.answered_at = app.updated_at = ctx.now()
    audit(ctx, actor, "application", app.id or 0, "decline", from_state=before, to_state="declined")
    await notify_base_staff(
        ctx, app.base_id, "base_result_declined", f"application:{app.id}", occurrence=ctx.now()
    )  # type: ignore[arg-type]
    return app


async def make_acceptable(ctx: Ctx, application_id: int) -> Application | None:
    """Timed: the lock period passed, the result is final and can be accepted."""
    app = await ctx.get(Application, application_id, lock=True)
    now = ctx.now()
    if S(app.status) is not S.SENT or app.acceptable_at is None or now < app.acceptable_at:
        return None
    app.status = S.ACCEPTABLE
    app.updated_at = now
    audit(
        ctx,
        None,
        "application",
        app.id or 0,
        "lock_passed",
        from_state="sent",
        to_state="acceptable",
    )
    await notify(
        ctx,
        app.account_id,
        "result_acceptable",
        f"application:{app.id}",
        occurrence=app.acceptable_at,
        deadline=app.deadline_at,
        urgent=True,
    )
    return app


async def expire(ctx: Ctx, application_id: int) -> Application | None:
    """Timed: the confirmation period passed without an answer; the result can't be accepted."""
    app = await ctx.get(Application, application_id, lock=True)
    now = ctx.now()
    if S(app.status) not in ANSWERABLE or app.deadline_at is None or now <= app.deadline_at:
        return None
    before = str(app.status)
    app.status = S.EXPIRED
    app.answered_at = app.updated_at = now
    audit(ctx, None, "application", app.id or 0, "expire", from_state=before, to_state="expired")
    await notify(
        ctx, app.account_id, "result_expired", f"application:{app.id}", occurrence=app.deadline_at
    )
    return app
