"""Reminders: which kinds exist, who gets them, which can be muted, and when each is due.

The guide's loudest warning is that after the confirmation period the accept button is gone.
The scheduler's sweeps (scheduler/sweeps.py) find what is due with set-based queries; the rules
they apply live here: the stages before a deadline ("3d", "1d", "2h" …), quiet hours, the daily
digest moment, what makes a profile incomplete (as SQL), and the mute preferences.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, delete, exists, func, not_, or_, select
from sqlalchemy.sql.elements import ColumnElement

from storage.models import EducationRecord, ReminderMute, TraineeProfile, WorkRecord
from storage.upsert import insert_ignore
from workflow.actor import Actor
from workflow.context import Ctx
from workflow.enums import EducationLevel, Role
from workflow.errors import DomainError

# --- kinds -----------------------------------------------------------------------------------

APPLY_DRAFT = "reminder_apply_draft"  # application period closing, draft not submitted
APPLY_PROFILE = "reminder_apply_profile"  # application period closing, profile incomplete
CONFIRM_CLOSING = "reminder_confirm_closing"  # confirmation period closing, not accepted
LOCK_ENDING = "reminder_lock_ending"  # base: results it sent become final soon
YEARS_MISSING = "reminder_years_missing"  # trainee: training started, years not set
DIGEST_BASE = "digest_base"  # base: what waits on it today
DIGEST_COMMISSION = "digest_commission"  # city / province: what waits on it today
CLOSED_EDIT = "reminder_closed_edit"  # edit of a sent accept message: the period closed
TEST = "reminder_test"  # "send me a test reminder" from /reminders

# Kinds whose messages carried the accept button; edited when the period closes.
ACCEPT_BUTTON_KINDS = ("result_acceptable", CONFIRM_CLOSING)


@dataclass(frozen=True)
class ReminderKind:
    kind: str
    roles: frozenset[Role]
    # A deadline of the recipient's own obligation: it cannot be muted.
    critical: bool


_TRAINEE = frozenset({Role.TRAINEE})
_COMMISSION = frozenset({Role.CITY, Role.PROVINCE})

KINDS: dict[str, ReminderKind] = {
    k.kind: k
    for k in (
        ReminderKind(APPLY_DRAFT, _TRAINEE, critical=True),
        ReminderKind(CONFIRM_CLOSING, _TRAINEE, critical=True),
        ReminderKind(APPLY_PROFILE, _TRAINEE, critical=False),
        ReminderKind(YEARS_MISSING, _TRAINEE, critical=False),
        ReminderKind(LOCK_ENDING, frozenset({Role.BASE}), critical=False),
        ReminderKind(DIGEST_BASE, frozenset({Role.BASE}), critical=False),
        ReminderKind(DIGEST_COMMISSION, _COMMISSION, critical=False),
    )
}


def kinds_for(role: Role | str) -> list[ReminderKind]:
    return [k for k in KINDS.values() if Role(role) in k.roles]


def mutable_kinds(role: Role | str) -> list[str]:
    return [k.kind for k in kinds_for(role) if not k.critical]


def critical_kinds(role: Role | str) -> list[str]:
    return [k.kind for k in kinds_for(role) if k.critical]


def is_mutable(kind: str) -> bool:
    info = KINDS.get(kind)
    return info is not None and not info.critical


# --- stages before a deadline ----------------------------------------------------------------

_OFFSET = re.compile(r"\s*(\d+)\s*([dhms])\s*")
_UNITS = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}


def parse_offset(text: str) -> timedelta:
    """Parse "3d", "2h", "15m" or "30s" into a timedelta."""
    match = _OFFSET.fullmatch(text)
    if match is None:
        raise ValueError(f"not an offset: {text!r} (use e.g. 3d, 2h, 15m)")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


@dataclass(frozen=True)
class Stage:
    """One reminder before a deadline: due when `deadline - offset <= now < deadline`."""

    label: str
    offset: timedelta


def stages(offsets: Sequence[str]) -> list[Stage]:
    """The configured offsets, farthest first; duplicates dropped."""
    seen: dict[timedelta, Stage] = {}
    for text in offsets:
        delta = parse_offset(text)
        if delta <= timedelta(0):
            raise ValueError(f"an offset must be positive: {text!r}")
        seen.setdefault(delta, Stage(text.strip(), delta))
    return sorted(seen.values(), key=lambda s: s.offset, reverse=True)


@dataclass(frozen=True)
class StageWindow:
    """Deadlines in (`after`, `until`] are in `stage` now: its reminder is the latest one due."""

    stage: Stage
    after: datetime
    until: datetime


def stage_windows(now: datetime, offsets: Sequence[str]) -> list[StageWindow]:
    """Only the latest reached stage of a deadline is due: a sweep that runs late (or a server
    that was down across two stages) sends one reminder, not every stage it missed."""
    ordered = stages(offsets)
    out = []
    for i, stage in enumerate(ordered):
        nearer = ordered[i + 1].offset if i + 1 < len(ordered) else timedelta(0)
        out.append(StageWindow(stage, now + nearer, now + stage.offset))
    return out


def stage_for(
    deadline: datetime, now: datetime, offsets: Sequence[str], *, since: datetime | None = None
) -> Stage | None:
    """The stage of `deadline` due now, if any. With `since` (when the obligation began: the
    batch opened, the result became acceptable), a stage that began before it is not due: the
    message that started the obligation already said what the deadline is."""
    for window in stage_windows(now, offsets):
        if window.after < deadline <= window.until:
            if since is not None and deadline - window.stage.offset < since:
                return None
            return window.stage
    return None


def occurrence(deadline: datetime, stage: Stage | str) -> str:
    """The dedupe occurrence of a stage reminder: the deadline (epoch seconds) and the stage."""
    label = stage.label if isinstance(stage, Stage) else stage
    return f"{epoch(deadline)}/{label}"


def epoch(at: datetime) -> int:
    return int(at.astimezone(UTC).timestamp())


# --- quiet hours and the daily digest ------------------------------------------------------


def quiet_until(now: datetime, start: time, end: time, tz: ZoneInfo) -> datetime | None:
    """The end of the quiet hours `now` falls in (local `start` to `end`, possibly across
    midnight), or None outside them. Equal start and end mean no quiet hours."""
    if start == end:
        return None
    local = now.astimezone(tz)
    today = local.date()

    def at(day: date, t: time) -> datetime:
        return datetime.combine(day, t, tzinfo=tz)

    if start < end:  # e.g. 00:00–06:00 within one day
        if at(today, start) <= local < at(today, end):
            return at(today, end).astimezone(UTC)
        return None
    # across midnight, e.g. 22:00–08:00
    if local >= at(today, start):
        return at(today + timedelta(days=1), end).astimezone(UTC)
    if local < at(today, end):
        return at(today, end).astimezone(UTC)
    return None


def may_send(
    now: datetime,
    *,
    urgent: bool,
    deadline: datetime | None,
    start: time,
    end: time,
    tz: ZoneInfo,
) -> bool:
    """Non-urgent messages wait out the quiet hours, unless their deadline falls before the quiet
    hours end (a reminder that would come too late is sent anyway)."""
    quiet_end = quiet_until(now, start, end, tz)
    if quiet_end is None or urgent:
        return True
    return deadline is not None and deadline <= quiet_end


@dataclass(frozen=True)
class Digest:
    day: date  # the local day the digest is for: its dedupe occurrence
    at: datetime  # the digest moment of that day
    until: datetime  # the next day's moment: after it this digest is stale


def digest_due(now: datetime, at: time, tz: ZoneInfo) -> Digest | None:
    """Today's digest once its local time has come; a missed earlier day is not made up."""
    local = now.astimezone(tz)
    moment = datetime.combine(local.date(), at, tzinfo=tz)
    if local < moment:
        return None
    return Digest(
        local.date(), moment.astimezone(UTC), (moment + timedelta(days=1)).astimezone(UTC)
    )


# --- the profile's completeness, set-based --------------------------------------------------

_RANK = {
    EducationLevel.JUNIOR_COLLEGE: 1,
    EducationLevel.BACHELOR: 2,
    EducationLevel.MASTER: 3,
    EducationLevel.DOCTOR: 4,
}
_FIRST_LEVELS = [EducationLevel.JUNIOR_COLLEGE.value, EducationLevel.BACHELOR.value]


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.sum(case((condition, 1), else_=0))


def profile_complete(account_id: ColumnElement[int]) -> ColumnElement[bool]:
    """SQL for `workflow.profile.completeness(...).complete` of the account `account_id`, so a
    sweep can select 100,000 trainees in one query. The same four modules, the same rules (a unit
    test holds the two versions equal on generated profiles)."""
    p, e, w = TraineeProfile, EducationRecord, WorkRecord
    rank = case(*((e.level == lvl.value, r) for lvl, r in _RANK.items()), else_=0)
    bachelor = e.level == EducationLevel.BACHELOR.value
    education_ok = (
        select(e.account_id)
        .group_by(e.account_id)
        .having(
            _count(e.is_first) == 1,
            _count(and_(e.is_first, e.level.not_in(_FIRST_LEVELS))) == 0,
            or_(
                _count(and_(e.is_first, e.level == EducationLevel.JUNIOR_COLLEGE.value)) == 0,
                _count(and_(e.is_bachelor, bachelor)) > 0,
            ),
            _count(and_(e.is_bachelor, not_(bachelor))) == 0,
            _count(e.is_bachelor) <= 1,
            _count(e.is_highest) == 1,
            func.max(rank) <= func.max(case((e.is_highest, rank), else_=0)),
        )
    )
    current_units = (
        select(func.count())
        .where(w.account_id == p.account_id, w.is_current)
        .correlate(p)
        .scalar_subquery()
    )

    def filled(column: ColumnElement[str]) -> ColumnElement[bool]:
        return and_(column.is_not(None), column != "")

    basic_contact_work_ok = exists(
        select(1).where(
            p.account_id == account_id,
            filled(p.gender),
            p.birth_date.is_not(None),
            filled(p.ethnicity),
            filled(p.political_status),
            p.phone_verified_at.is_not(None),
            filled(p.email),
            filled(p.address),
            filled(p.emergency_name),
            p.emergency_phone_enc.is_not(None),
            func.length(p.emergency_phone_enc) > 0,
            or_(
                and_(p.has_work_unit.is_(True), current_units == 1),
                and_(p.has_work_unit.is_(False), current_units == 0),
            ),
        )
    )
    return and_(basic_contact_work_ok, account_id.in_(education_ok))


# --- mute preferences ----------------------------------------------------------------------


async def muted_kinds(ctx: Ctx, account_id: int) -> set[str]:
    rows = await ctx.session.scalars(
        select(ReminderMute.kind).where(ReminderMute.account_id == account_id)
    )
    return set(rows.all())


async def set_muted(ctx: Ctx, actor: Actor, kind: str, muted: bool) -> bool:
    """Mute or unmute one kind for the actor; False when it already was so. Deadline reminders
    of the actor's own obligations are refused: they cannot be muted."""
    info = KINDS.get(kind)
    if info is None or actor.role not in info.roles:
        raise DomainError("reminders.unknown")
    if info.critical:
        raise DomainError("reminders.critical")
    if muted:
        return await insert_ignore(
            ctx.session,
            ReminderMute,
            {"account_id": actor.account_id, "kind": kind, "muted_at": ctx.now()},
            ["account_id", "kind"],
        )
    result = await ctx.session.execute(
        delete(ReminderMute).where(
            ReminderMute.account_id == actor.account_id, ReminderMute.kind == kind
        )
    )
    return bool(result.rowcount)
