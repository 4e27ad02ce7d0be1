"""The user's own deadlines as calendar events (what `/calendar` sends as an .ics file).

Plain data: each event has a stable id made of what it is about (the batch, the application,
the training, a base's send moment), so a file downloaded again after a change carries the same
ids and a calendar replaces its events instead of adding copies. Times are aware datetimes;
whole-day events (training dates) are dates."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from storage.models import AllocationOffer, Application, Base, Batch, Specialty, Training
from workflow.actor import Actor, require_role
from workflow.context import Ctx
from workflow.enums import ApplicationStatus as S
from workflow.enums import CheckIn, OfferStatus, Role

# Alarms before a trainee's answer closes (the confirmation period, an allocation offer).
ANSWER_ALARMS = (timedelta(hours=24), timedelta(hours=2))
# Before a base's lock period ends: the last moment to cancel a sent result.
LOCK_ALARMS = (timedelta(hours=1),)
APPLY_ALARMS = (timedelta(hours=24),)
UNANSWERED = (S.SENT, S.ACCEPTABLE)


@dataclass(frozen=True)
class CalendarEvent:
    uid: str
    kind: str  # apply_end, accept_window, offer_window, checkin, training_start, training_end,
    #            lock_end, apply_period, confirm_period
    start: datetime | date
    end: datetime | date
    params: dict[str, str | int] = field(default_factory=dict)
    alarms: tuple[timedelta, ...] = ()  # before `end`


async def events(ctx: Ctx, actor: Actor) -> list[CalendarEvent]:
    """The events of the actor's own deadlines, soonest first."""
    if actor.role is Role.TRAINEE:
        found = await _trainee(ctx, actor)
    else:
        require_role(actor, Role.BASE, Role.CITY, Role.PROVINCE)
        found = await _staff(ctx, actor)
    return sorted(found, key=lambda e: (_sortable(e.start), e.uid))


def _sortable(value: datetime | date) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


async def _trainee(ctx: Ctx, actor: Actor) -> list[CalendarEvent]:
    me = actor.account_id
    apps = list(
        (await ctx.session.scalars(select(Application).where(Application.account_id == me))).all()
    )
    out: list[CalendarEvent] = []
    for app in apps:
        batch = await ctx.get(Batch, app.batch_id)
        status = S(app.status)
        out.append(
            CalendarEvent(
                f"apply-end-b{batch.id}-a{me}",
                "apply_end",
                batch.apply_end,
                batch.apply_end,
                {"batch": batch.name},
                APPLY_ALARMS if status is S.DRAFT else (),
            )
        )
        place = await _place(ctx, app)
        if app.acceptable_at is not None and app.deadline_at is not None:
            out.append(
                CalendarEvent(
                    f"accept-app{app.id}",
                    "accept_window",
                    app.acceptable_at,
                    app.deadline_at,
                    {"batch": batch.name, **place},
                    ANSWER_ALARMS if status in UNANSWERED else (),
                )
            )
        if app.checkin_at is not None and app.checkin == CheckIn.REPORTED:
            out.append(
                CalendarEvent(
                    f"checkin-app{app.id}",
                    "checkin",
                    app.checkin_at,
                    app.checkin_at,
                    {"batch": batch.name, **place},
                )
            )
        offers = await ctx.session.scalars(
            select(AllocationOffer).where(AllocationOffer.application_id == app.id)
        )
        for offer in offers:
            if offer.offered_at is None or offer.expires_at is None:
                continue
            open_ = OfferStatus(offer.status) is OfferStatus.OFFERED
            base = await ctx.session.get(Base, offer.site_id or offer.base_id)
            out.append(
                CalendarEvent(
                    f"offer{offer.id}",
                    "offer_window",
                    offer.offered_at,
                    offer.expires_at,
                    {"base": base.name if base else ""},
                    ANSWER_ALARMS if open_ else (),
                )
            )
    trainings = await ctx.session.scalars(select(Training).where(Training.account_id == me))
    for t in trainings:
        base = await ctx.session.get(Base, t.base_id)
        params: dict[str, str | int] = {"base": base.name if base else ""}
        if t.start_date is not None:
            day = t.start_date
            out.append(
                CalendarEvent(f"training-start-t{t.id}", "training_start", day, _next(day), params)
            )
        if t.end_date is not None:
            day = t.end_date
            out.append(
                CalendarEvent(f"training-end-t{t.id}", "training_end", day, _next(day), params)
            )
    return out


async def _place(ctx: Ctx, app: Application) -> dict[str, str | int]:
    base = await ctx.session.get(Base, app.site_id or app.base_id) if app.base_id else None
    spec = await ctx.session.get(Specialty, app.specialty_id) if app.specialty_id else None
    return {"base": base.name if base else "", "specialty": spec.name if spec else ""}


def _next(day: date) -> date:
    return day + timedelta(days=1)


async def _staff(ctx: Ctx, actor: Actor) -> list[CalendarEvent]:
    """The periods of the batches not yet over; for base staff also the lock ends of the results
    their base sent, one event per send moment with the count."""
    now = ctx.now()
    batches = list((await ctx.session.scalars(select(Batch).where(Batch.confirm_end >= now))).all())
    out: list[CalendarEvent] = []
    for b in batches:
        params: dict[str, str | int] = {"batch": b.name}
        out.append(
            CalendarEvent(f"apply-b{b.id}", "apply_period", b.apply_start, b.apply_end, params)
        )
        out.append(
            CalendarEvent(
                f"confirm-b{b.id}", "confirm_period", b.confirm_start, b.confirm_end, params
            )
        )
    if actor.role is not Role.BASE or actor.base_id is None:
        return out
    by_batch = {b.id: b for b in batches}
    sent = await ctx.session.execute(
        select(Application.batch_id, Application.sent_at).where(
            Application.base_id == actor.base_id,
            Application.sent_at.is_not(None),
            Application.batch_id.in_(list(by_batch)),
        )
    )
    # Results sent within the same minute are one event (a 📤 of several, or a quick series).
    groups: dict[tuple[int, datetime], list[datetime]] = {}
    for batch_id, sent_at in sent:
        lock_end = sent_at + timedelta(hours=by_batch[batch_id].lock_hours)
        minute = lock_end.replace(second=0, microsecond=0)
        groups.setdefault((batch_id, minute), []).append(lock_end)
    for (batch_id, minute), ends in groups.items():
        lock_end, n = max(ends), len(ends)
        out.append(
            CalendarEvent(
                f"lock-b{batch_id}-base{actor.base_id}-{int(minute.timestamp())}",
                "lock_end",
                lock_end,
                lock_end,
                {"batch": by_batch[batch_id].name, "n": n},
                LOCK_ALARMS,
            )
        )
    return out
