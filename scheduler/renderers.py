"""How the reminder and digest rows become messages: rendered at send time from fresh data, or
None when the reminder is no longer relevant (the recipient already did the thing)."""

from __future__ import annotations

from datetime import UTC, datetime

from aiogram.types import InlineKeyboardMarkup
from sqlalchemy import func, select

from bot.durations import time_left
from bot.i18n import Translator
from bot.notice_buttons import calendar_button, result_answer_row
from bot.notices import Rendered, register
from storage.models import (
    Account,
    Application,
    Base,
    Batch,
    ChangeRequest,
    OutboxMessage,
    Plan,
    Reduction,
    Specialty,
    Training,
)
from workflow import reminders as R
from workflow.completeness import MODULES
from workflow.context import Ctx
from workflow.enums import ApplicationStatus as S
from workflow.enums import (
    ChangeStatus,
    PlanStatus,
    ReductionStatus,
    Role,
    Supervisor,
    TrainingStatus,
)
from workflow.errors import NotFound
from workflow.profile import load as load_profile


def subject_id(row: OutboxMessage) -> int | None:
    """The number of a subject like "application:17"."""
    tail = (row.subject or "").rpartition(":")[2]
    return int(tail) if tail.isdigit() else None


# --- trainees ------------------------------------------------------------------------------


@register(R.APPLY_DRAFT)
async def apply_draft(ctx: Ctx, row: OutboxMessage, i18n: Translator) -> Rendered | None:
    batch = await ctx.session.get(Batch, subject_id(row))
    now = ctx.now()
    if batch is None or now >= batch.apply_end:
        return None
    status = await ctx.session.scalar(
        select(Application.status).where(
            Application.account_id == row.account_id, Application.batch_id == batch.id
        )
    )
    if status != S.DRAFT:
        return None
    return Rendered(
        i18n(
            "reminder.apply_draft",
            batch=batch.name,
            end=batch.apply_end,
            left=time_left(i18n, batch.apply_end - now),
        ),
        calendar_keyboard(i18n),
    )


@register(R.APPLY_PROFILE)
async def apply_profile(ctx: Ctx, row: OutboxMessage, i18n: Translator) -> Rendered | None:
    batch = await ctx.session.get(Batch, subject_id(row))
    now = ctx.now()
    if batch is None or now >= batch.apply_end:
        return None
    try:
        view = await load_profile(ctx, row.account_id)
    except NotFound:
        view = None
    if view is not None and view.completeness.complete:
        return None
    missing = [
        i18n(f"reminder.module.{m}")
        for m in MODULES
        if view is None or not view.completeness.module_complete(m)
    ]
    return Rendered(
        i18n(
            "reminder.apply_profile",
            batch=batch.name,
            end=batch.apply_end,
            left=time_left(i18n, batch.apply_end - now),
            missing=i18n("reminder.list_sep").join(missing),
        )
    )


def accept_keyboard(i18n: Translator, application_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[result_answer_row(i18n, application_id), [calendar_button(i18n)]]
    )


def calendar_keyboard(i18n: Translator) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[calendar_button(i18n)]])


async def _place(ctx: Ctx, app: Application, i18n: Translator) -> tuple[str, str]:
    base = await ctx.session.get(Base, app.site_id or app.base_id)
    spec = await ctx.session.get(Specialty, app.specialty_id)
    spec_name = ""
    if spec is not None:
        spec_name = spec.name_en if i18n.locale == "en" and spec.name_en else spec.name
    return (base.name if base else ""), spec_name


@register(R.CONFIRM_CLOSING)
async def confirm_closing(ctx: Ctx, row: OutboxMessage, i18n: Translator) -> Rendered | None:
    app = await ctx.session.get(Application, subject_id(row))
    now = ctx.now()
    if (
        app is None
        or app.account_id != row.account_id
        or S(app.status) not in {S.SENT, S.ACCEPTABLE}
        or app.acceptable_at is None
        or app.deadline_at is None
        or not app.acceptable_at <= now < app.deadline_at
    ):
        return None
    base, specialty = await _place(ctx, app, i18n)
    return Rendered(
        i18n(
            "reminder.confirm_closing",
            base=base,
            specialty=specialty,
            end=app.deadline_at,
            left=time_left(i18n, app.deadline_at - now),
        ),
        accept_keyboard(i18n, app.id),  # type: ignore[arg-type]
    )


@register(R.CLOSED_EDIT)
async def closed_edit(ctx: Ctx, row: OutboxMessage, i18n: Translator) -> Rendered | None:
    """Replaces a message that carried the accept button, once the period closed unanswered."""
    app = await ctx.session.get(Application, subject_id(row))
    if app is None or S(app.status) is not S.EXPIRED or app.deadline_at is None:
        return None
    base, specialty = await _place(ctx, app, i18n)
    return Rendered(i18n("reminder.closed", base=base, specialty=specialty, closed=app.deadline_at))


@register(R.YEARS_MISSING)
async def years_missing(ctx: Ctx, row: OutboxMessage, i18n: Translator) -> Rendered | None:
    training = await ctx.session.get(Training, subject_id(row))
    if (
        training is None
        or training.account_id != row.account_id
        or training.duration_years is not None
        or TrainingStatus(training.status) is not TrainingStatus.IN_TRAINING
    ):
        return None
    return Rendered(i18n("reminder.years_missing"))


@register(R.TEST)
async def test_message(ctx: Ctx, row: OutboxMessage, i18n: Translator) -> Rendered | None:
    return Rendered(i18n("reminder.test"))


# --- bases and commissions -----------------------------------------------------------------


@register(R.LOCK_ENDING)
async def lock_ending(ctx: Ctx, row: OutboxMessage, i18n: Translator) -> Rendered | None:
    """One message for the results whose lock ends at the row's moment; when the sender merged
    several rows of the base (results sent one by one), for all of them, with the count."""
    now = ctx.now()
    payload = row.payload or {}
    first = datetime.fromisoformat(payload["from"]) if "from" in payload else row.deadline_at
    last = datetime.fromisoformat(payload["through"]) if "through" in payload else first
    if first is None or last is None or now >= last:
        return None
    a = Application
    count, soonest, latest = (
        await ctx.session.execute(
            select(func.count(), func.min(a.acceptable_at), func.max(a.acceptable_at)).where(
                a.base_id == subject_id(row),
                a.status == S.SENT,
                a.acceptable_at >= first,
                a.acceptable_at <= last,
                a.acceptable_at > now,
            )
        )
    ).one()
    if not count:
        return None  # the base cancelled them meanwhile
    # SQLite returns aggregates of timestamps as text.
    soonest, latest = (_aware(v) for v in (soonest, latest))
    if soonest == latest:
        left = time_left(i18n, soonest - now)
        text = i18n("reminder.lock_ending", count=count, at=soonest, left=left)
    else:
        text = i18n(
            "reminder.lock_ending_many",
            count=count,
            first=soonest,
            last=latest,
            left=time_left(i18n, soonest - now),
        )
    return Rendered(text, calendar_keyboard(i18n))


def _aware(value: datetime | str) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


async def _count(ctx: Ctx, stmt) -> int:  # type: ignore[no-untyped-def]
    return int(await ctx.session.scalar(stmt) or 0)


def _digest(i18n: Translator, title: str, lines: list[tuple[str, int]]) -> Rendered | None:
    shown = [i18n(f"reminder.digest.{key}", n=n) for key, n in lines if n]
    if not shown:
        return None  # everything was done since the sweep
    return Rendered("\n".join([i18n(title), "", *shown, "", i18n("reminder.digest.footer")]))


@register(R.DIGEST_BASE)
async def digest_base(ctx: Ctx, row: OutboxMessage, i18n: Translator) -> Rendered | None:
    base_id = subject_id(row)
    account = await ctx.session.get(Account, row.account_id)
    if account is None or account.base_id != base_id:
        return None
    a = Application

    def apps(*conditions) -> int:  # type: ignore[no-untyped-def]
        return select(func.count()).where(a.base_id == base_id, *conditions)

    return _digest(
        i18n,
        "reminder.digest.base_title",
        [
            ("pre_audit", await _count(ctx, apps(a.status == S.SUBMITTED))),
            ("to_admit", await _count(ctx, apps(a.status == S.PRE_ADMITTED))),
            ("to_send", await _count(ctx, apps(a.status == S.ADMITTED))),
            ("check_in", await _count(ctx, apps(a.status == S.CONFIRMED, a.checkin.is_(None)))),
            (
                "reductions",
                await _count(
                    ctx,
                    select(func.count()).where(
                        Reduction.base_id == base_id, Reduction.status == ReductionStatus.AT_BASE
                    ),
                ),
            ),
            (
                "years",
                await _count(
                    ctx,
                    select(func.count()).where(
                        Training.base_id == base_id,
                        Training.duration_years.is_(None),
                        Training.status == TrainingStatus.IN_TRAINING,
                    ),
                ),
            ),
        ],
    )


@register(R.DIGEST_COMMISSION)
async def digest_commission(ctx: Ctx, row: OutboxMessage, i18n: Translator) -> Rendered | None:
    account = await ctx.session.get(Account, row.account_id)
    if account is None:
        return None
    a = Application
    if account.role == Role.PROVINCE:
        confirm = select(func.count()).select_from(a).join(Base, Base.id == a.base_id)
        confirm = confirm.where(a.status == S.ACCEPTED, Base.supervisor == Supervisor.PROVINCE)
        reductions = select(func.count()).where(Reduction.status == ReductionStatus.AT_PROVINCE)
        lines = [
            ("confirm", await _count(ctx, confirm)),
            ("reductions", await _count(ctx, reductions)),
            (
                "plans",
                await _count(ctx, select(func.count()).where(Plan.status == PlanStatus.DECLARED)),
            ),
        ]
    elif account.role == Role.CITY and row.subject == f"city:{account.city_id}":
        city = account.city_id
        confirm = select(func.count()).select_from(a).join(Base, Base.id == a.base_id)
        confirm = confirm.where(
            a.status == S.ACCEPTED, Base.city_id == city, Base.supervisor == Supervisor.CITY
        )
        reductions = select(func.count()).where(
            Reduction.city_id == city, Reduction.status == ReductionStatus.AT_CITY
        )
        changes = (
            select(func.count())
            .select_from(ChangeRequest)
            .join(Base, Base.id == ChangeRequest.base_id)
            .where(ChangeRequest.status == ChangeStatus.PENDING, Base.city_id == city)
        )
        lines = [
            ("confirm", await _count(ctx, confirm)),
            ("reductions", await _count(ctx, reductions)),
            ("changes", await _count(ctx, changes)),
        ]
    else:
        return None
    return _digest(i18n, "reminder.digest.commission_title", lines)
