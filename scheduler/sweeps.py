"""The periodic sweep: timed transitions first, then every reminder that is due, derived from the
database each time (jobs carry no personal data and keep no state between runs).

Each reminder kind is one INSERT … SELECT into the outbox over an indexed condition, so the cost
does not grow with a loop over trainees; the dedupe key (recipient, kind, subject, deadline and
stage) makes a second sweep at the same moment, or a sweep after a crash, enqueue nothing twice.
Only the latest stage reached before a deadline is enqueued, and an older stage still waiting in
the outbox is superseded by it, so a late sweep sends one reminder, not a burst.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, exists, literal, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql import ColumnElement

from bot import metrics
from bot.config import Settings
from bot.services import Services
from scheduler.sql import enqueue_select, epoch_seconds, lit, outbox_row, text_of
from storage.models import (
    Account,
    Application,
    Base,
    Batch,
    ChangeRequest,
    OutboxMessage,
    Plan,
    Reduction,
    ReminderMute,
    TelegramUser,
    Training,
)
from workflow import deadlines
from workflow import reminders as R
from workflow.clock import FrozenClock
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

log = logging.getLogger(__name__)


@dataclass
class SweepConfig:
    apply_offsets: list[str]
    confirm_offsets: list[str]
    lock_offset: timedelta
    years_after: timedelta
    settings: Settings

    @classmethod
    def of(cls, settings: Settings) -> SweepConfig:
        R.stages(settings.apply_close_offsets)  # refuse a bad setting at start, not mid-season
        R.stages(settings.confirm_close_offsets)
        return cls(
            apply_offsets=list(settings.apply_close_offsets),
            confirm_offsets=list(settings.confirm_close_offsets),
            lock_offset=R.parse_offset(settings.lock_end_offset),
            years_after=R.parse_offset(settings.years_reminder_after),
            settings=settings,
        )


@dataclass
class SweepReport:
    at: datetime
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def enqueued(self) -> int:
        """Reminders queued, and transitions (each queues the workflow's notice)."""
        return sum(v for k, v in self.counts.items() if k != "superseded")

    def add(self, key: str, n: int) -> None:
        self.counts[key] = self.counts.get(key, 0) + n


def _bound(account_id: ColumnElement[int]) -> ColumnElement[bool]:
    """The account has a chat to send to (one TelegramUser per account, indexed)."""
    return exists(select(1).where(TelegramUser.account_id == account_id))


def _not_muted(account_id: ColumnElement[int], kind: str) -> ColumnElement[bool]:
    return ~exists(
        select(1).where(ReminderMute.account_id == account_id, ReminderMute.kind == kind)
    )


def _key(*parts: ColumnElement[Any] | str) -> ColumnElement[str]:
    """The dedupe key `recipient|kind|subject|occurrence`, assembled in SQL."""
    out: ColumnElement[str] | None = None
    for part in parts:
        piece = lit(part) if isinstance(part, str) else part
        out = piece if out is None else out + piece
    assert out is not None
    return out


async def _prepare(session: AsyncSession) -> None:
    """On PostgreSQL, no JIT compilation in a sweep's transaction. Its statements touch up to a
    few hundred thousand rows, enough for the planner's cost to pass `jit_above_cost`, and
    compiling them with inlining and optimisation costs more than running them (0.6 s of the
    closing-batch reminder's 1.5 s over 100,000 trainees)."""
    bind = session.bind
    if bind is not None and bind.dialect.name == "postgresql":
        await session.execute(text("SET LOCAL jit = off"))


# --- timed transitions ---------------------------------------------------------------------


async def _chunks(
    services: Services, now: datetime, step: Callable[[Ctx], Awaitable[list[int]]]
) -> int:
    """Run a bulk transition a chunk per transaction until nothing is due."""
    total = 0
    while True:

        async def work(session: AsyncSession) -> int:
            await _prepare(session)
            ctx = services.ctx(session)
            ctx.clock = FrozenClock(now)
            return len(await step(ctx))

        done = await services.db.run(work)
        total += done
        if done < deadlines.CHUNK:
            return total


# --- trainees ------------------------------------------------------------------------------


async def apply_closing(session: AsyncSession, now: datetime, cfg: SweepConfig) -> dict[str, int]:
    """The application period closing: trainees with an unsubmitted draft, and trainees of the
    batch's program whose profile is still incomplete (so they cannot even start)."""
    farthest = R.stages(cfg.apply_offsets)[0].offset
    batches = (
        await session.scalars(
            select(Batch).where(
                Batch.apply_end > now, Batch.apply_end <= now + farthest, Batch.apply_start <= now
            )
        )
    ).all()
    out = {R.APPLY_DRAFT: 0, R.APPLY_PROFILE: 0}
    for batch in batches:
        stage = R.stage_for(batch.apply_end, now, cfg.apply_offsets, since=batch.apply_start)
        if stage is None:
            continue
        began = batch.apply_end - stage.offset
        occ = R.occurrence(batch.apply_end, stage)
        subject = f"batch:{batch.id}"
        a = Application
        drafts = (
            select(
                *outbox_row(
                    dedupe_key=_key(text_of(a.account_id), f"|{R.APPLY_DRAFT}|{subject}|{occ}"),
                    account_id=a.account_id,
                    kind=R.APPLY_DRAFT,
                    subject=lit(subject),
                    now=now,
                    deadline=batch.apply_end,
                )
            )
            .join(Account, Account.id == a.account_id)
            .where(
                a.batch_id == batch.id,
                a.status == S.DRAFT,
                a.created_at <= began,
                Account.is_active,
                _bound(a.account_id),
            )
        )
        out[R.APPLY_DRAFT] += await enqueue_select(session, drafts)
        acc = Account
        other = exists(
            select(1).where(
                Application.account_id == acc.id,
                or_(
                    Application.batch_id == batch.id,
                    and_(
                        Application.cohort_year == batch.cohort_year,
                        Application.status != S.DRAFT,
                    ),
                ),
            )
        )
        incomplete = select(
            *outbox_row(
                dedupe_key=_key(text_of(acc.id), f"|{R.APPLY_PROFILE}|{subject}|{occ}"),
                account_id=acc.id,
                kind=R.APPLY_PROFILE,
                subject=lit(subject),
                now=now,
                deadline=batch.apply_end,
            )
        ).where(
            acc.role == Role.TRAINEE,
            acc.is_active,
            or_(acc.program == batch.program, acc.program.is_(None)),
            or_(acc.created_at.is_(None), acc.created_at <= began),
            # Most trainees have an application: that probe first (SQLite evaluates the terms
            # in this order), the profile's modules only for the others.
            ~other,
            ~R.profile_complete(acc.id),
            _bound(acc.id),
            _not_muted(acc.id, R.APPLY_PROFILE),
        )
        out[R.APPLY_PROFILE] += await enqueue_select(session, incomplete)
    return out


async def confirm_closing(session: AsyncSession, now: datetime, cfg: SweepConfig) -> int:
    """The confirmation period closing on a result not yet accepted (with accept buttons)."""
    a = Application
    dl = a.deadline_at
    windows = R.stage_windows(now, cfg.confirm_offsets)
    in_window = [and_(dl > w.after, dl <= w.until) for w in windows]
    # A stage that began before the result became acceptable is not due: the message saying it
    # is acceptable told the deadline already.
    began_after = [
        epoch_seconds(a.acceptable_at) + int(w.stage.offset.total_seconds()) <= epoch_seconds(dl)
        for w in windows
    ]
    stage_label = case(
        *((cond, lit(w.stage.label)) for cond, w in zip(in_window, windows, strict=True))
    )
    subject = _key("application:", text_of(a.id))
    rows = select(
        *outbox_row(
            dedupe_key=_key(
                text_of(a.account_id),
                f"|{R.CONFIRM_CLOSING}|",
                subject,
                "|",
                text_of(epoch_seconds(dl)),
                "/",
                stage_label,
            ),
            account_id=a.account_id,
            kind=R.CONFIRM_CLOSING,
            subject=subject,
            now=now,
            deadline=dl,
        )
    ).where(
        a.status == S.ACCEPTABLE,
        dl > now,
        dl <= windows[0].until,
        or_(*(and_(w, b) for w, b in zip(in_window, began_after, strict=True))),
        _bound(a.account_id),
    )
    return await enqueue_select(session, rows)


async def years_missing(session: AsyncSession, now: datetime, cfg: SweepConfig) -> int:
    """A training started (checked in) a while ago and its years are still not set."""
    t = Training
    rows = select(
        *outbox_row(
            dedupe_key=_key(
                text_of(t.account_id), f"|{R.YEARS_MISSING}|training:", text_of(t.id), "|due"
            ),
            account_id=t.account_id,
            kind=R.YEARS_MISSING,
            subject=_key("training:", text_of(t.id)),
            now=now,
        )
    ).where(
        t.duration_years.is_(None),
        t.status == TrainingStatus.IN_TRAINING,
        t.created_at <= now - cfg.years_after,
        _bound(t.account_id),
        _not_muted(t.account_id, R.YEARS_MISSING),
    )
    return await enqueue_select(session, rows)


# --- bases and commissions -----------------------------------------------------------------


async def lock_ending(session: AsyncSession, now: datetime, cfg: SweepConfig) -> int:
    """Base staff: results they sent become final (cannot be cancelled) within the offset.
    One reminder per base and moment: results sent together end their lock together."""
    a, staff = Application, aliased(Account)
    off = int(cfg.lock_offset.total_seconds())
    # The moments first (a range of the status index), then their bases' staff by base: the
    # other way round, SQLite reads the range once per staff account.
    moments = (
        select(a.base_id, a.acceptable_at)
        .distinct()
        .where(
            a.status == S.SENT,
            a.acceptable_at > now,
            a.acceptable_at <= now + cfg.lock_offset,
            epoch_seconds(a.sent_at) + off <= epoch_seconds(a.acceptable_at),
        )
        .subquery("moments")
    )
    ending = (
        select(staff.id.label("staff_id"), moments.c.base_id, moments.c.acceptable_at)
        .select_from(moments)
        .join(
            staff,
            and_(staff.base_id == moments.c.base_id, staff.role == Role.BASE, staff.is_active),
        )
        .where(_bound(staff.id), _not_muted(staff.id, R.LOCK_ENDING))
        .subquery()
    )
    rows = select(
        *outbox_row(
            dedupe_key=_key(
                text_of(ending.c.staff_id),
                f"|{R.LOCK_ENDING}|base:",
                text_of(ending.c.base_id),
                "|",
                text_of(epoch_seconds(ending.c.acceptable_at)),
            ),
            account_id=ending.c.staff_id,
            kind=R.LOCK_ENDING,
            subject=_key("base:", text_of(ending.c.base_id)),
            now=now,
            deadline=ending.c.acceptable_at,
        )
    ).where(ending.c.staff_id.is_not(None))
    return await enqueue_select(session, rows)


def base_waiting(base_id: ColumnElement[int], at: datetime) -> ColumnElement[bool]:
    """Something waited on this base at the digest moment `at` and still does: pre-audits,
    admissions, results to send, check-ins, reduction reviews, training years. (What arrives
    later is in tomorrow's digest: a digest comes at its time, not whenever work appears.)"""
    a = Application
    return or_(
        exists(
            select(1).where(
                a.base_id == base_id,
                a.status.in_([S.SUBMITTED, S.PRE_ADMITTED, S.ADMITTED]),
                a.updated_at <= at,
            )
        ),
        exists(
            select(1).where(
                a.base_id == base_id,
                a.status == S.CONFIRMED,
                a.checkin.is_(None),
                a.updated_at <= at,
            )
        ),
        exists(
            select(1).where(
                Reduction.base_id == base_id,
                Reduction.status == ReductionStatus.AT_BASE,
                Reduction.updated_at <= at,
            )
        ),
        exists(
            select(1).where(
                Training.base_id == base_id,
                Training.duration_years.is_(None),
                Training.status == TrainingStatus.IN_TRAINING,
                Training.created_at <= at,
            )
        ),
    )


def city_waiting(city_id: ColumnElement[int], at: datetime) -> ColumnElement[bool]:
    """Results to confirm at bases the city supervises, reductions at the city, change requests
    of the city's bases."""
    a = Application
    return or_(
        exists(
            select(1)
            .select_from(a)
            .join(Base, Base.id == a.base_id)
            .where(
                a.status == S.ACCEPTED,
                a.updated_at <= at,
                Base.city_id == city_id,
                Base.supervisor == Supervisor.CITY,
            )
        ),
        exists(
            select(1).where(
                Reduction.city_id == city_id,
                Reduction.status == ReductionStatus.AT_CITY,
                Reduction.updated_at <= at,
            )
        ),
        exists(
            select(1)
            .select_from(ChangeRequest)
            .join(Base, Base.id == ChangeRequest.base_id)
            .where(
                ChangeRequest.status == ChangeStatus.PENDING,
                ChangeRequest.filed_at <= at,
                Base.city_id == city_id,
            )
        ),
    )


def province_waiting(at: datetime) -> ColumnElement[bool]:
    """Results to confirm at bases the province supervises, reductions at the province, plans
    declared and not yet decided."""
    a = Application
    return or_(
        exists(
            select(1)
            .select_from(a)
            .join(Base, Base.id == a.base_id)
            .where(
                a.status == S.ACCEPTED,
                a.updated_at <= at,
                Base.supervisor == Supervisor.PROVINCE,
            )
        ),
        exists(
            select(1).where(
                Reduction.status == ReductionStatus.AT_PROVINCE, Reduction.updated_at <= at
            )
        ),
        exists(select(1).where(Plan.status == PlanStatus.DECLARED, Plan.declared_at <= at)),
    )


async def digests(session: AsyncSession, now: datetime, cfg: SweepConfig) -> dict[str, int]:
    """Once a day at the digest time: every base and commission account with something waiting
    on it. The counts are read when the message is rendered."""
    settings = cfg.settings
    due = R.digest_due(now, settings.digest_time, settings.tz)
    out = {R.DIGEST_BASE: 0, R.DIGEST_COMMISSION: 0}
    if due is None:
        return out
    day = due.day.isoformat()
    staff = Account

    def digest(kind: str, subject: ColumnElement[str], role: Role, waiting: Any) -> Any:
        return select(
            *outbox_row(
                dedupe_key=_key(text_of(staff.id), f"|{kind}|", subject, f"|{day}"),
                account_id=staff.id,
                kind=kind,
                subject=subject,
                now=now,
                deadline=due.until,
            )
        ).where(
            staff.role == role,
            staff.is_active,
            _bound(staff.id),
            _not_muted(staff.id, kind),
            waiting,
        )

    out[R.DIGEST_BASE] += await enqueue_select(
        session,
        digest(
            R.DIGEST_BASE,
            _key("base:", text_of(staff.base_id)),
            Role.BASE,
            base_waiting(staff.base_id, due.at),
        ),
    )
    out[R.DIGEST_COMMISSION] += await enqueue_select(
        session,
        digest(
            R.DIGEST_COMMISSION,
            _key("city:", text_of(staff.city_id)),
            Role.CITY,
            city_waiting(staff.city_id, due.at),
        ),
    )
    out[R.DIGEST_COMMISSION] += await enqueue_select(
        session,
        digest(R.DIGEST_COMMISSION, literal("province"), Role.PROVINCE, province_waiting(due.at)),
    )
    return out


async def supersede(session: AsyncSession, now: datetime, cfg: SweepConfig) -> int:
    """An unsent stage reminder whose deadline has entered a nearer stage gives way to the
    nearer stage's reminder: a sender that was down sends one reminder, not each stage.
    One indexed range per stage: pending rows whose deadline lies in that stage's window."""
    o = OutboxMessage.__table__  # type: ignore[attr-defined]
    total = 0
    for kinds, offsets in (
        ((R.APPLY_DRAFT, R.APPLY_PROFILE), cfg.apply_offsets),
        ((R.CONFIRM_CLOSING,), cfg.confirm_offsets),
    ):
        for window in R.stage_windows(now, offsets)[1:]:
            result = await session.execute(
                update(o)
                .where(
                    o.c.status == "pending",
                    o.c.deadline_at > window.after,
                    o.c.deadline_at <= window.until,
                    o.c.kind.in_(kinds),
                    o.c.dedupe_key.not_like(f"%/{window.stage.label}"),
                )
                .values(status="superseded")
            )
            total += max(result.rowcount or 0, 0)
    return total


# --- the sweep -----------------------------------------------------------------------------


async def run_sweep(services: Services, *, now: datetime | None = None) -> SweepReport:
    """One sweep at `now` (the services' clock by default). Safe to run at the same moment in
    two processes: transitions re-check their condition, reminders are deduplicated."""
    started = time.perf_counter()
    now = now or services.clock.now()
    cfg = SweepConfig.of(services.settings)
    report = SweepReport(now)
    report.add("transition:acceptable", await _chunks(services, now, deadlines.promote_acceptable))
    report.add("transition:expired", await _chunks(services, now, deadlines.expire_unanswered))
    report.add("transition:offers_expired", await _chunks(services, now, deadlines.expire_offers))

    async def step(name: str | None, fn: Callable[..., Awaitable[Any]]) -> None:
        async def work(session: AsyncSession) -> Any:
            await _prepare(session)
            return await fn(session, now, cfg)

        result = await services.db.run(work)
        for key, n in result.items() if name is None else [(name, result)]:
            report.add(key, n)

    await step(None, apply_closing)
    await step(R.CONFIRM_CLOSING, confirm_closing)
    await step(R.LOCK_ENDING, lock_ending)
    await step(R.YEARS_MISSING, years_missing)
    await step(None, digests)
    await step("superseded", supersede)
    done = ", ".join(f"{k}={v}" for k, v in sorted(report.counts.items()) if v)
    log.log(logging.INFO if done else logging.DEBUG, "sweep at %s: %s", now.isoformat(), done)
    metrics.record_sweep(time.perf_counter() - started)
    return report
