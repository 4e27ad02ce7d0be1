"""The rules of what is due: stages before a deadline, quiet hours, the digest moment, the
set-based profile check against the profile's own rules, the bulk timed transitions against the
one-application versions, and which reminders can be muted."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from storage.models import (
    Account,
    Application,
    AuditLog,
    EducationRecord,
    OutboxMessage,
    ReminderMute,
    TraineeProfile,
    WorkRecord,
)
from tests.conftest import CtxFactory
from tests.factories import World, make_trainee, sent
from tests.scheduler.conftest import outbox
from workflow import deadlines, profile, results
from workflow import reminders as R
from workflow.clock import FrozenClock
from workflow.enums import ApplicationStatus, EducationLevel, Gender, IdType, Role
from workflow.errors import DomainError

SH = ZoneInfo("Asia/Shanghai")
OFFSETS = ["3d", "1d", "2h"]


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)  # type: ignore[misc]


# --- stages ----------------------------------------------------------------------------------


def test_offsets_parse_and_sort_farthest_first() -> None:
    assert R.parse_offset("15m") == timedelta(minutes=15)
    assert [s.label for s in R.stages(["2h", "3d", "1d", "2h"])] == ["3d", "1d", "2h"]
    for bad in ("", "3w", "h2", "-1d"):
        with pytest.raises(ValueError):
            R.parse_offset(bad)
    with pytest.raises(ValueError):
        R.stages(["0h"])


def test_each_stage_is_due_from_its_moment_until_the_next_one() -> None:
    deadline = sh(2026, 7, 10, 20, 0)

    def label(now: datetime) -> str | None:
        stage = R.stage_for(deadline, now, OFFSETS)
        return stage.label if stage else None

    assert label(deadline - timedelta(days=3, seconds=1)) is None
    assert label(deadline - timedelta(days=3)) == "3d"
    assert label(deadline - timedelta(days=1, seconds=1)) == "3d"
    assert label(deadline - timedelta(days=1)) == "1d"
    assert label(deadline - timedelta(hours=2)) == "2h"
    assert label(deadline - timedelta(seconds=1)) == "2h"
    assert label(deadline) is None  # none at or after the deadline
    assert label(deadline + timedelta(hours=1)) is None


def test_a_late_sweep_finds_only_the_latest_stage() -> None:
    deadline = sh(2026, 7, 10, 20, 0)
    # Down from before T-3d until after T-1d: one reminder is due, the 1d one.
    now = deadline - timedelta(hours=20)
    assert [
        w.stage.label for w in R.stage_windows(now, OFFSETS) if w.after < deadline <= w.until
    ] == ["1d"]


def test_a_stage_that_began_before_the_obligation_is_not_due() -> None:
    deadline = sh(2026, 7, 10, 20, 0)
    now = deadline - timedelta(hours=30)  # inside the 3d stage
    assert R.stage_for(deadline, now, OFFSETS, since=deadline - timedelta(days=4)).label == "3d"
    assert R.stage_for(deadline, now, OFFSETS, since=deadline - timedelta(days=2)) is None


def test_occurrence_names_the_deadline_and_the_stage() -> None:
    at = datetime(2026, 7, 10, 12, 0, tzinfo=UTC)
    assert R.occurrence(at, "2h") == f"{int(at.timestamp())}/2h"


# --- quiet hours and digests -------------------------------------------------------------------


QUIET = {"start": time(22, 0), "end": time(8, 0), "tz": SH}


def test_quiet_hours_across_midnight() -> None:
    assert R.quiet_until(sh(2026, 7, 1, 21, 59), **QUIET) is None
    assert R.quiet_until(sh(2026, 7, 1, 22, 0), **QUIET) == sh(2026, 7, 2, 8, 0)
    assert R.quiet_until(sh(2026, 7, 2, 3, 0), **QUIET) == sh(2026, 7, 2, 8, 0)
    assert R.quiet_until(sh(2026, 7, 2, 8, 0), **QUIET) is None
    # Within one day, and switched off.
    assert R.quiet_until(sh(2026, 7, 2, 5, 0), time(0, 0), time(6, 0), SH) == sh(2026, 7, 2, 6, 0)
    assert R.quiet_until(sh(2026, 7, 2, 7, 0), time(0, 0), time(6, 0), SH) is None
    assert R.quiet_until(sh(2026, 7, 2, 3, 0), time(8, 0), time(8, 0), SH) is None


def test_quiet_hours_hold_back_only_what_can_wait() -> None:
    night = sh(2026, 7, 1, 23, 0)
    assert not R.may_send(night, urgent=False, deadline=None, **QUIET)
    assert not R.may_send(night, urgent=False, deadline=sh(2026, 7, 2, 12, 0), **QUIET)
    assert R.may_send(night, urgent=False, deadline=sh(2026, 7, 1, 23, 15), **QUIET)
    assert R.may_send(night, urgent=True, deadline=None, **QUIET)
    assert R.may_send(sh(2026, 7, 2, 9, 0), urgent=False, deadline=None, **QUIET)


def test_the_digest_is_due_from_its_local_time_that_day_only() -> None:
    assert R.digest_due(sh(2026, 7, 1, 8, 59), time(9, 0), SH) is None
    due = R.digest_due(sh(2026, 7, 1, 17, 0), time(9, 0), SH)
    assert due is not None and due.day == date(2026, 7, 1)
    assert due.at == sh(2026, 7, 1, 9, 0) and due.until == sh(2026, 7, 2, 9, 0)
    # 00:30 Shanghai is the previous day in UTC: the local day counts.
    assert R.digest_due(sh(2026, 7, 2, 0, 30), time(0, 15), SH).day == date(2026, 7, 2)


# --- the profile's completeness in SQL ---------------------------------------------------------


def _complete_profile(account_id: int, now: datetime) -> TraineeProfile:
    return TraineeProfile(
        account_id=account_id,
        name="测试",
        id_type=IdType.PASSPORT,
        id_number_enc=b"x",
        id_number_index=f"idx{account_id}",
        id_tail="0000",
        gender=Gender.FEMALE,
        birth_date=date(1998, 1, 1),
        ethnicity="汉族",
        political_status="群众",
        phone_verified_at=now,
        email="a@example.com",
        address="广州",
        emergency_name="李四",
        emergency_phone_enc=b"enc",
        has_work_unit=False,
    )


def _perturb(rng: random.Random, p: TraineeProfile) -> tuple[list[dict], list[dict]]:
    """A complete profile with 0–2 random things changed; education and work records."""
    levels = list(EducationLevel)
    edu = [dict(level=EducationLevel.BACHELOR, is_first=True, is_highest=True, is_bachelor=False)]
    work: list[dict] = []
    for _ in range(rng.choice([0, 0, 1, 2])):
        what = rng.randrange(12)
        if what == 0:
            setattr(p, rng.choice(["gender", "ethnicity", "political_status", "email"]), None)
        elif what == 1:
            setattr(p, rng.choice(["ethnicity", "address", "emergency_name"]), "")
        elif what == 2:
            p.phone_verified_at = None
        elif what == 3:
            p.emergency_phone_enc = rng.choice([None, b""])
        elif what == 4:
            p.birth_date = None
        elif what == 5:
            p.has_work_unit = rng.choice([None, True])
        elif what == 6:
            edu = []
        elif what in (7, 8, 9):
            edu = [
                dict(
                    level=rng.choice(levels),
                    is_first=rng.random() < 0.5,
                    is_highest=rng.random() < 0.5,
                    is_bachelor=rng.random() < 0.4,
                )
                for _ in range(rng.randint(1, 3))
            ]
        else:
            p.has_work_unit = rng.choice([True, False])
            work = [dict(is_current=rng.random() < 0.5) for _ in range(rng.randint(0, 2))]
    return edu, work


async def test_the_sql_completeness_agrees_with_the_profile_rules(
    make_ctx: CtxFactory, clock: FrozenClock
) -> None:
    rng = random.Random(20260701)
    now = clock.now()
    expected: dict[int, bool] = {}
    async with make_ctx() as ctx:
        for i in range(300):
            account = Account(role=Role.TRAINEE, display_name=f"t{i}", created_at=now)
            ctx.session.add(account)
            await ctx.session.flush()
            if i % 50 == 49:  # no profile at all
                expected[account.id] = False
                continue
            p = _complete_profile(account.id, now)
            edu, work = _perturb(rng, p)
            ctx.session.add(p)
            for n, e in enumerate(edu):
                ctx.session.add(
                    EducationRecord(
                        account_id=account.id,
                        school="中山大学",
                        major="临床医学",
                        start_date=date(2010 + n, 9, 1),
                        end_date=date(2014 + n, 6, 30),
                        **e,
                    )
                )
            for n, w in enumerate(work):
                ctx.session.add(
                    WorkRecord(
                        account_id=account.id,
                        unit_name="医院",
                        start_date=date(2015 + n, 1, 1),
                        **w,
                    )
                )
            await ctx.session.flush()
            view = await profile.load(ctx, account.id)
            expected[account.id] = view.completeness.complete
    async with make_ctx() as ctx:
        in_sql = set(
            (
                await ctx.session.scalars(select(Account.id).where(R.profile_complete(Account.id)))
            ).all()
        )
    complete = {a for a, ok in expected.items() if ok}
    assert 60 < len(complete) < 240, "the generator should give both kinds"
    assert in_sql == complete


# --- bulk timed transitions equal the one-application ones -----------------------------------


def _shape(rows: list[OutboxMessage], app_id: int) -> list[tuple]:
    return [
        (
            r.kind,
            r.dedupe_key.split("|")[1:] == [r.kind, r.subject, r.dedupe_key.split("|")[3]],
            r.dedupe_key.split("|")[0] == str(r.account_id),
            r.dedupe_key.split("|")[3],
            r.urgent,
            r.deadline_at,
            r.payload,
            r.status,
        )
        for r in rows
        if r.subject == f"application:{app_id}"
        and r.kind.startswith("result_")
        and r.kind != "result_sent"
    ]


async def _audits(make_ctx: CtxFactory, app_id: int) -> list[tuple]:
    async with make_ctx() as ctx:
        rows = await ctx.session.scalars(
            select(AuditLog).where(AuditLog.entity == "application", AuditLog.entity_id == app_id)
        )
        return [(a.action, a.from_state, a.to_state, a.actor_id, a.at) for a in rows.all()]


async def test_bulk_transitions_leave_what_the_single_ones_leave(
    make_ctx: CtxFactory, clock: FrozenClock, world: World, db
) -> None:
    async with make_ctx() as ctx:
        one = await sent(ctx, world, await make_trainee(ctx, name="甲"))
        many = await sent(ctx, world, await make_trainee(ctx, name="乙"))
    clock.advance(hours=13)
    async with make_ctx() as ctx:
        assert await results.make_acceptable(ctx, one.id) is not None
    async with make_ctx() as ctx:
        assert await deadlines.promote_acceptable(ctx) == [many.id]
        assert await deadlines.promote_acceptable(ctx) == []  # nothing twice
    clock.advance(days=30)
    async with make_ctx() as ctx:
        assert await results.expire(ctx, one.id) is not None
    async with make_ctx() as ctx:
        assert await deadlines.expire_unanswered(ctx) == [many.id]
    rows = await outbox(db)
    assert _shape(rows, one.id) == _shape(rows, many.id)
    assert [k for k, *_ in _shape(rows, many.id)] == ["result_acceptable", "result_expired"]
    assert [a[:3] for a in await _audits(make_ctx, many.id)][-2:] == [
        ("lock_passed", "sent", "acceptable"),
        ("expire", "acceptable", "expired"),
    ]
    assert (await _audits(make_ctx, one.id))[-2:] == (await _audits(make_ctx, many.id))[-2:]
    async with make_ctx() as ctx:
        a = await ctx.get(Application, one.id)
        b = await ctx.get(Application, many.id)
    assert (a.status, a.answered_at, a.updated_at) == (b.status, b.answered_at, b.updated_at)
    assert b.status == ApplicationStatus.EXPIRED


async def test_a_result_the_base_cancelled_is_not_promoted(
    make_ctx: CtxFactory, clock: FrozenClock, world: World
) -> None:
    from workflow import admission

    async with make_ctx() as ctx:
        app = await sent(ctx, world, await make_trainee(ctx))
        await admission.cancel_admission(ctx, world.staff_a, app.id)
    clock.advance(hours=13)
    async with make_ctx() as ctx:
        assert await deadlines.promote_acceptable(ctx) == []
        assert await deadlines.expire_unanswered(ctx) == []


# --- mute preferences --------------------------------------------------------------------------


async def test_only_non_critical_kinds_of_ones_role_can_be_muted(
    make_ctx: CtxFactory, world: World
) -> None:
    async with make_ctx() as ctx:
        trainee = await make_trainee(ctx)
    assert R.critical_kinds(Role.TRAINEE) == [R.APPLY_DRAFT, R.CONFIRM_CLOSING]
    assert R.mutable_kinds(Role.BASE) == [R.LOCK_ENDING, R.DIGEST_BASE]
    async with make_ctx() as ctx:
        assert await R.set_muted(ctx, trainee, R.APPLY_PROFILE, True) is True
        assert await R.set_muted(ctx, trainee, R.APPLY_PROFILE, True) is False
    for kind, code in (
        (R.CONFIRM_CLOSING, "reminders.critical"),
        (R.DIGEST_BASE, "reminders.unknown"),
        ("nonsense", "reminders.unknown"),
    ):
        with pytest.raises(DomainError) as err:
            async with make_ctx() as ctx:
                await R.set_muted(ctx, trainee, kind, True)
        assert err.value.code == code
    async with make_ctx() as ctx:
        assert await R.muted_kinds(ctx, trainee.account_id) == {R.APPLY_PROFILE}
        rows = (await ctx.session.scalars(select(ReminderMute))).all()
        assert [(r.account_id, r.kind) for r in rows] == [(trainee.account_id, R.APPLY_PROFILE)]
        assert await R.set_muted(ctx, trainee, R.APPLY_PROFILE, False) is True
        assert await R.muted_kinds(ctx, trainee.account_id) == set()
