"""招收管理 (`workflow.admission`): pre-audit, 基地录取, 发送录取结果, 取消录取, the
commission's 录取结果确认 and check-in."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from storage.models import Application, Specialty, Training
from tests.conftest import CtxFactory
from tests.factories import (
    World,
    accepted,
    add,
    make_batch,
    make_plan,
    make_trainee,
    sent,
    submitted,
)
from tests.workflow.helpers import actions, audit_rows, kinds, outbox, refused, reread, run
from workflow import admission, results, training
from workflow.actor import Actor
from workflow.clock import FrozenClock
from workflow.context import Ctx
from workflow.enums import ApplicationStatus as S
from workflow.enums import CheckIn
from workflow.errors import DomainError


async def new_submitted(make_ctx: CtxFactory, world: World, **kw: Any) -> Application:
    async with make_ctx() as ctx:
        return await submitted(ctx, world, await make_trainee(ctx), **kw)


async def new_sent(make_ctx: CtxFactory, world: World, **kw: Any) -> Application:
    async with make_ctx() as ctx:
        return await sent(ctx, world, await make_trainee(ctx), **kw)


async def new_accepted(
    make_ctx: CtxFactory, clock: FrozenClock, world: World, **kw: Any
) -> tuple[Actor, Application]:
    async with make_ctx() as ctx:
        actor = await make_trainee(ctx)
        return actor, await accepted(ctx, clock, world, actor, **kw)


async def status(make_ctx: CtxFactory, app_id: int) -> S:
    return S((await reread(make_ctx, Application, app_id)).status)


# --- pre-audit --------------------------------------------------------------------------------


async def test_pre_admit(make_ctx: CtxFactory, world: World, clock: FrozenClock) -> None:
    app = await new_submitted(make_ctx, world)
    await run(make_ctx, lambda ctx: admission.pre_admit(ctx, world.staff_a, app.id))
    row = await reread(make_ctx, Application, app.id)
    assert (row.status, row.pre_audited_at) == (S.PRE_ADMITTED, clock.now())
    audit = (await audit_rows(make_ctx, "application", app.id))[-1]
    assert (audit.action, audit.from_state, audit.to_state, audit.actor_id) == (
        "pre_admit",
        "submitted",
        "pre_admitted",
        world.staff_a.account_id,
    )
    assert await kinds(make_ctx, app.account_id) == ["pre_admitted"]
    e = await refused(make_ctx, lambda ctx: admission.pre_admit(ctx, world.staff_a, app.id))
    assert e.code == "state.wrong"


@pytest.mark.parametrize("reason", [None, "", "   "])
async def test_reject_needs_a_reason(
    make_ctx: CtxFactory, world: World, reason: str | None
) -> None:
    app = await new_submitted(make_ctx, world)
    e = await refused(make_ctx, lambda ctx: admission.reject(ctx, world.staff_a, app.id, reason))
    assert e.code == "reason.required"
    assert await status(make_ctx, app.id) == S.SUBMITTED
    assert await kinds(make_ctx, app.account_id) == []


async def test_reject_reason_too_long(make_ctx: CtxFactory, world: World) -> None:
    app = await new_submitted(make_ctx, world)
    e = await refused(
        make_ctx, lambda ctx: admission.reject(ctx, world.staff_a, app.id, "长" * 501)
    )
    assert e.code == "field.too_long"


async def test_reject_from_submitted_and_from_pre_admitted(
    make_ctx: CtxFactory, world: World
) -> None:
    first = await new_submitted(make_ctx, world)
    second = await new_submitted(make_ctx, world)
    await run(make_ctx, lambda ctx: admission.pre_admit(ctx, world.staff_a, second.id))
    for app in (first, second):
        await run(
            make_ctx,
            lambda ctx, a=app: admission.reject(ctx, world.staff_a, a.id, " 非本院  线下录取 "),
        )
        row = await reread(make_ctx, Application, app.id)
        assert (row.status, row.not_admitted_reason) == (S.NOT_ADMITTED, "非本院 线下录取")
        assert (await kinds(make_ctx, app.account_id))[-1] == "not_admitted"
        audit = (await audit_rows(make_ctx, "application", app.id))[-1]
        assert (audit.action, audit.reason) == ("reject", "非本院 线下录取")
    e = await refused(make_ctx, lambda ctx: admission.reject(ctx, world.staff_a, first.id, "再次"))
    assert e.code == "state.wrong"


async def test_cancel_pre_admission(make_ctx: CtxFactory, world: World) -> None:
    app = await new_submitted(make_ctx, world)
    e = await refused(
        make_ctx, lambda ctx: admission.cancel_pre_admission(ctx, world.staff_a, app.id)
    )
    assert e.code == "state.wrong"
    await run(make_ctx, lambda ctx: admission.pre_admit(ctx, world.staff_a, app.id))
    await run(make_ctx, lambda ctx: admission.cancel_pre_admission(ctx, world.staff_a, app.id))
    assert await status(make_ctx, app.id) == S.SUBMITTED
    assert (await actions(make_ctx, "application", app.id))[-2:] == [
        "pre_admit",
        "cancel_pre_admission",
    ]


# --- 基地录取 ----------------------------------------------------------------------------------


async def test_admit_only_after_pre_admission(make_ctx: CtxFactory, world: World) -> None:
    app = await new_submitted(make_ctx, world)
    e = await refused(make_ctx, lambda ctx: admission.admit(ctx, world.staff_a, app.id))
    assert (e.code, e.params["expected"]) == ("state.wrong", "pre_admitted")
    await run(make_ctx, lambda ctx: admission.pre_admit(ctx, world.staff_a, app.id))
    await run(make_ctx, lambda ctx: admission.admit(ctx, world.staff_a, app.id))
    row = await reread(make_ctx, Application, app.id)
    assert row.status == S.ADMITTED and row.admitted_at is not None


async def test_admit_beyond_the_plan_is_refused(make_ctx: CtxFactory, world: World) -> None:
    # 儿科 at base_a plans one place.
    first = await new_submitted(make_ctx, world, specialty=world.pediatrics)
    second = await new_submitted(make_ctx, world, specialty=world.pediatrics)
    for app in (first, second):
        await run(make_ctx, lambda ctx, a=app: admission.pre_admit(ctx, world.staff_a, a.id))
    await run(make_ctx, lambda ctx: admission.admit(ctx, world.staff_a, first.id))
    e = await refused(make_ctx, lambda ctx: admission.admit(ctx, world.staff_a, second.id))
    assert (e.code, e.params) == ("admit.plan_full", {"planned": 1})
    assert await status(make_ctx, second.id) == S.PRE_ADMITTED


async def test_concurrent_admissions_for_the_last_place_let_exactly_one_through(
    make_ctx: CtxFactory, world: World
) -> None:
    first = await new_submitted(make_ctx, world, specialty=world.pediatrics)
    second = await new_submitted(make_ctx, world, specialty=world.pediatrics)
    for app in (first, second):
        await run(make_ctx, lambda ctx, a=app: admission.pre_admit(ctx, world.staff_a, a.id))

    async def admit(app_id: int) -> str:
        try:
            await run(make_ctx, lambda ctx: admission.admit(ctx, world.staff_a, app_id))
        except DomainError as e:
            return e.code
        return "admitted"

    outcomes = await asyncio.gather(admit(first.id), admit(second.id))
    assert sorted(outcomes) == ["admit.plan_full", "admitted"]
    assert {await status(make_ctx, first.id), await status(make_ctx, second.id)} == {
        S.ADMITTED,
        S.PRE_ADMITTED,
    }


async def test_a_declined_result_frees_its_place(
    make_ctx: CtxFactory, world: World, clock: FrozenClock
) -> None:
    async with make_ctx() as ctx:
        actor = await make_trainee(ctx)
        first = await sent(ctx, world, actor, specialty=world.pediatrics)
    second = await new_submitted(make_ctx, world, specialty=world.pediatrics)
    await run(make_ctx, lambda ctx: admission.pre_admit(ctx, world.staff_a, second.id))
    e = await refused(make_ctx, lambda ctx: admission.admit(ctx, world.staff_a, second.id))
    assert e.code == "admit.plan_full"
    clock.advance(hours=12)
    await run(make_ctx, lambda ctx: results.decline(ctx, actor, first.id))
    await run(make_ctx, lambda ctx: admission.admit(ctx, world.staff_a, second.id))
    assert await status(make_ctx, second.id) == S.ADMITTED


# --- 发送录取结果 --------------------------------------------------------------------------------


async def admitted_many(make_ctx: CtxFactory, world: World, n: int) -> list[int]:
    async with make_ctx() as ctx:
        surgery = await add(ctx, Specialty(code="0300", name="外科"))
        await make_plan(ctx, world.batch, world.base_a, surgery, 25)
        ids = []
        for _ in range(n):
            app = await submitted(ctx, world, await make_trainee(ctx), specialty=surgery)
            await admission.pre_admit(ctx, world.staff_a, app.id)
            await admission.admit(ctx, world.staff_a, app.id)
            ids.append(app.id)
        return ids


async def test_send_21_refused_and_20_allowed(make_ctx: CtxFactory, world: World) -> None:
    ids = await admitted_many(make_ctx, world, 21)
    e = await refused(make_ctx, lambda ctx: admission.send_results(ctx, world.staff_a, ids))
    assert (e.code, e.params) == ("send.too_many", {"max": 20, "count": 21})
    assert await outbox(make_ctx, kind="result_sent") == []
    # Twenty distinct applications, one named twice.
    done = await run(
        make_ctx, lambda ctx: admission.send_results(ctx, world.staff_a, [*ids[:20], ids[0]])
    )
    assert len(done) == 20
    async with make_ctx() as ctx:
        rows = (await ctx.session.scalars(select(Application).order_by(Application.id))).all()
        assert [r.status for r in rows] == [S.SENT] * 20 + [S.ADMITTED]
    assert len(await outbox(make_ctx, kind="result_sent")) == 20


async def test_send_with_one_not_admitted_refuses_the_whole_batch(
    make_ctx: CtxFactory, world: World
) -> None:
    ids = await admitted_many(make_ctx, world, 3)
    pending = await new_submitted(make_ctx, world)
    await run(make_ctx, lambda ctx: admission.pre_admit(ctx, world.staff_a, pending.id))
    e = await refused(
        make_ctx, lambda ctx: admission.send_results(ctx, world.staff_a, [*ids, pending.id])
    )
    assert e.code == "state.wrong"
    for app_id in ids:
        row = await reread(make_ctx, Application, app_id)
        assert (row.status, row.sent_at, row.acceptable_at) == (S.ADMITTED, None, None)
    assert await status(make_ctx, pending.id) == S.PRE_ADMITTED
    assert await outbox(make_ctx, kind="result_sent") == []
    assert "send_result" not in await actions(make_ctx, "application", ids[0])


async def test_send_with_another_bases_application_refuses_the_whole_batch(
    make_ctx: CtxFactory, world: World
) -> None:
    ids = await admitted_many(make_ctx, world, 2)
    async with make_ctx() as ctx:
        other = await submitted(ctx, world, await make_trainee(ctx), base=world.base_b)
        await admission.pre_admit(ctx, world.staff_b, other.id)
        await admission.admit(ctx, world.staff_b, other.id)
    e = await refused(
        make_ctx, lambda ctx: admission.send_results(ctx, world.staff_a, [*ids, other.id])
    )
    assert e.code == "forbidden.other_base"
    for app_id in [*ids, other.id]:
        assert await status(make_ctx, app_id) == S.ADMITTED
    assert await outbox(make_ctx, kind="result_sent") == []


async def test_send_nothing_or_an_unknown_application(make_ctx: CtxFactory, world: World) -> None:
    ids = await admitted_many(make_ctx, world, 1)
    e = await refused(make_ctx, lambda ctx: admission.send_results(ctx, world.staff_a, []))
    assert e.code == "send.none"
    e = await refused(make_ctx, lambda ctx: admission.send_results(ctx, world.staff_a, [*ids, 999]))
    assert e.code == "not_found"
    assert await status(make_ctx, ids[0]) == S.ADMITTED


async def test_sent_result_records_when_it_becomes_acceptable(
    make_ctx: CtxFactory, world: World, clock: FrozenClock
) -> None:
    app = await new_sent(make_ctx, world)
    row = await reread(make_ctx, Application, app.id)
    assert row.status == S.SENT
    assert row.sent_at == clock.now()
    assert row.acceptable_at == clock.now() + timedelta(hours=12)
    assert row.deadline_at == world.batch.confirm_end
    (notice,) = await outbox(make_ctx, kind="result_sent")
    assert notice.account_id == app.account_id
    assert notice.subject == f"application:{app.id}"
    assert notice.deadline_at == world.batch.confirm_end
    assert notice.payload["acceptable_at"] == row.acceptable_at.isoformat()


async def test_acceptable_not_before_the_confirmation_period_starts(
    make_ctx: CtxFactory, world: World, clock: FrozenClock
) -> None:
    async with make_ctx() as ctx:
        later = await make_batch(
            ctx,
            name="确认期较晚",
            confirm_from=timedelta(days=3),
            confirm_until=timedelta(days=5),
        )
        await make_plan(ctx, later, world.base_a, world.internal, 1)
        app = await sent(ctx, world, await make_trainee(ctx), batch=later)
    row = await reread(make_ctx, Application, app.id)
    assert row.acceptable_at == clock.now() + timedelta(days=3)


async def test_send_refused_when_the_result_could_never_be_accepted(
    make_ctx: CtxFactory, world: World, clock: FrozenClock
) -> None:
    async with make_ctx() as ctx:
        short = await make_batch(ctx, name="确认期将尽", confirm_until=timedelta(hours=12))
        await make_plan(ctx, short, world.base_a, world.internal, 1)
        app = await submitted(ctx, world, await make_trainee(ctx), batch=short)
        await admission.pre_admit(ctx, world.staff_a, app.id)
        await admission.admit(ctx, world.staff_a, app.id)
    e = await refused(make_ctx, lambda ctx: admission.send_results(ctx, world.staff_a, [app.id]))
    assert e.code == "send.window_closed"
    assert await status(make_ctx, app.id) == S.ADMITTED


# --- scope ------------------------------------------------------------------------------------


BaseAction = Callable[[Ctx, Actor, int], Awaitable[Any]]
BASE_ACTIONS: dict[str, BaseAction] = {
    "pre_admit": admission.pre_admit,
    "reject": lambda ctx, a, i: admission.reject(ctx, a, i, "原因"),
    "cancel_pre_admission": admission.cancel_pre_admission,
    "admit": admission.admit,
    "send_results": lambda ctx, a, i: admission.send_results(ctx, a, [i]),
    "cancel_admission": admission.cancel_admission,
    "check_in": lambda ctx, a, i: admission.check_in(ctx, a, i, True),
}


@pytest.mark.parametrize("state", ["submitted", "pre_admitted", "admitted", "sent", "confirmed"])
async def test_another_bases_staff_is_refused_on_every_base_action(
    make_ctx: CtxFactory, world: World, clock: FrozenClock, state: str
) -> None:
    async with make_ctx() as ctx:
        actor = await make_trainee(ctx)
        app = await submitted(ctx, world, actor)
        if state != "submitted":
            await admission.pre_admit(ctx, world.staff_a, app.id)
        if state in ("admitted", "sent", "confirmed"):
            await admission.admit(ctx, world.staff_a, app.id)
        if state in ("sent", "confirmed"):
            await admission.send_results(ctx, world.staff_a, [app.id])
    if state == "confirmed":
        clock.advance(hours=13)
        await run(make_ctx, lambda ctx: results.accept(ctx, actor, app.id))
        await run(make_ctx, lambda ctx: admission.confirm_result(ctx, world.city_gz, app.id))
    before = await reread(make_ctx, Application, app.id)
    for name, action in BASE_ACTIONS.items():
        for outsider, code in [
            (world.staff_b, "forbidden.other_base"),
            (world.city_gz, "forbidden.role"),
            (world.province, "forbidden.role"),
            (actor, "forbidden.role"),
        ]:
            e = await refused(make_ctx, lambda ctx, o=outsider, a=action: a(ctx, o, app.id))
            assert e.code == code, (name, outsider.role)
    after = await reread(make_ctx, Application, app.id)
    assert (after.status, after.updated_at, after.checkin) == (
        before.status,
        before.updated_at,
        before.checkin,
    )


# --- 取消录取 ----------------------------------------------------------------------------------


async def test_cancel_inside_the_lock_period_then_send_again(
    make_ctx: CtxFactory, world: World, clock: FrozenClock
) -> None:
    app = await new_sent(make_ctx, world)
    clock.advance(hours=11, minutes=59)
    await run(make_ctx, lambda ctx: admission.cancel_admission(ctx, world.staff_a, app.id))
    row = await reread(make_ctx, Application, app.id)
    assert (row.status, row.sent_at, row.acceptable_at, row.deadline_at, row.admitted_at) == (
        S.PRE_ADMITTED,
        None,
        None,
        None,
        None,
    )
    assert await kinds(make_ctx, app.account_id) == [
        "pre_admitted",
        "result_sent",
        "result_cancelled",
    ]
    # The result must be admitted and sent again; its lock period starts anew.
    await run(make_ctx, lambda ctx: admission.admit(ctx, world.staff_a, app.id))
    await run(make_ctx, lambda ctx: admission.send_results(ctx, world.staff_a, [app.id]))
    row = await reread(make_ctx, Application, app.id)
    assert row.acceptable_at == clock.now() + timedelta(hours=12)
    assert (await actions(make_ctx, "application", app.id))[-3:] == [
        "cancel_admission",
        "admit",
        "send_result",
    ]


async def test_cancel_after_the_lock_period_is_refused(
    make_ctx: CtxFactory, world: World, clock: FrozenClock
) -> None:
    app = await new_sent(make_ctx, world)
    clock.advance(hours=12)
    e = await refused(make_ctx, lambda ctx: admission.cancel_admission(ctx, world.staff_a, app.id))
    assert e.code == "cancel.lock_passed"
    await run(make_ctx, lambda ctx: results.make_acceptable(ctx, app.id))
    e = await refused(make_ctx, lambda ctx: admission.cancel_admission(ctx, world.staff_a, app.id))
    assert e.code == "cancel.lock_passed"
    assert await status(make_ctx, app.id) == S.ACCEPTABLE


async def test_cancel_of_a_result_not_sent_is_refused(make_ctx: CtxFactory, world: World) -> None:
    ids = await admitted_many(make_ctx, world, 1)
    e = await refused(make_ctx, lambda ctx: admission.cancel_admission(ctx, world.staff_a, ids[0]))
    assert e.code == "state.wrong"


# --- 录取结果确认 by the supervising commission ------------------------------------------------


async def test_confirmation_by_the_city_for_a_city_supervised_base(
    make_ctx: CtxFactory, world: World, clock: FrozenClock
) -> None:
    actor, app = await new_accepted(make_ctx, clock, world)
    for outsider, code in [
        (world.city_sz, "forbidden.not_supervisor"),
        (world.province, "forbidden.not_supervisor"),
        (world.staff_a, "forbidden.not_supervisor"),
        (actor, "forbidden.not_supervisor"),
    ]:
        e = await refused(
            make_ctx, lambda ctx, o=outsider: admission.confirm_result(ctx, o, app.id)
        )
        assert e.code == code
    assert await status(make_ctx, app.id) == S.ACCEPTED
    await run(make_ctx, lambda ctx: admission.confirm_result(ctx, world.city_gz, app.id))
    row = await reread(make_ctx, Application, app.id)
    assert (row.status, row.confirmed_by, row.confirmed_at) == (
        S.CONFIRMED,
        world.city_gz.account_id,
        clock.now(),
    )
    assert (await kinds(make_ctx, actor.account_id))[-1] == "result_confirmed"
    assert await kinds(make_ctx, world.staff_a.account_id) == [
        "base_result_accepted",
        "base_result_confirmed",
    ]
    assert (await actions(make_ctx, "application", app.id))[-1] == "confirm_result"


async def test_confirmation_by_the_province_for_a_province_supervised_base(
    make_ctx: CtxFactory, world: World, clock: FrozenClock
) -> None:
    _actor, app = await new_accepted(make_ctx, clock, world, base=world.base_b)
    for outsider in (world.city_sz, world.city_gz, world.staff_b):
        e = await refused(
            make_ctx, lambda ctx, o=outsider: admission.confirm_result(ctx, o, app.id)
        )
        assert e.code == "forbidden.not_supervisor"
    await run(make_ctx, lambda ctx: admission.confirm_result(ctx, world.province, app.id))
    assert await status(make_ctx, app.id) == S.CONFIRMED
    assert await kinds(make_ctx, world.staff_b.account_id) == [
        "base_result_accepted",
        "base_result_confirmed",
    ]


async def test_confirmation_only_of_an_accepted_result(
    make_ctx: CtxFactory, world: World, clock: FrozenClock
) -> None:
    app = await new_sent(make_ctx, world)
    clock.advance(hours=13)
    await run(make_ctx, lambda ctx: results.make_acceptable(ctx, app.id))
    e = await refused(make_ctx, lambda ctx: admission.confirm_result(ctx, world.city_gz, app.id))
    assert (e.code, e.params["status"]) == ("state.wrong", "acceptable")


# --- 学员报到管理 ------------------------------------------------------------------------------


async def test_check_in_before_confirmation_is_refused(
    make_ctx: CtxFactory, world: World, clock: FrozenClock
) -> None:
    _actor, app = await new_accepted(make_ctx, clock, world)
    e = await refused(make_ctx, lambda ctx: admission.check_in(ctx, world.staff_a, app.id, True))
    assert e.code == "checkin.not_confirmed"
    row = await reread(make_ctx, Application, app.id)
    assert (row.checkin, row.checkin_at) == (None, None)


async def training_rows(make_ctx: CtxFactory, app_id: int) -> list[Training]:
    async with make_ctx() as ctx:
        rows = await ctx.session.scalars(select(Training).where(Training.application_id == app_id))
        return list(rows.all())


async def test_check_in_reported_and_not_reported(
    make_ctx: CtxFactory, world: World, clock: FrozenClock
) -> None:
    actor, app = await new_accepted(make_ctx, clock, world)
    await run(make_ctx, lambda ctx: admission.confirm_result(ctx, world.city_gz, app.id))
    await run(make_ctx, lambda ctx: admission.check_in(ctx, world.staff_a, app.id, True))
    row = await reread(make_ctx, Application, app.id)
    assert (row.checkin, row.checkin_at) == (CheckIn.REPORTED, clock.now())
    (t,) = await training_rows(make_ctx, app.id)
    assert (t.account_id, t.base_id, t.duration_years) == (actor.account_id, world.base_a.id, None)
    # Reported twice: still one training.
    clock.advance(minutes=1)
    await run(make_ctx, lambda ctx: admission.check_in(ctx, world.staff_a, app.id, True))
    assert len(await training_rows(make_ctx, app.id)) == 1
    clock.advance(minutes=1)
    await run(make_ctx, lambda ctx: admission.check_in(ctx, world.staff_a, app.id, False))
    assert (await reread(make_ctx, Application, app.id)).checkin == CheckIn.NOT_REPORTED
    assert await training_rows(make_ctx, app.id) == []
    audit = (await audit_rows(make_ctx, "application", app.id))[-1]
    assert (audit.action, audit.from_state, audit.to_state) == (
        "check_in",
        "reported",
        "not_reported",
    )
    notices = await outbox(make_ctx, account_id=actor.account_id, kind="checked_in")
    assert [n.payload["reported"] for n in notices] == [True, True, False]


async def test_not_reported_refused_once_training_years_are_set(
    make_ctx: CtxFactory, world: World, clock: FrozenClock
) -> None:
    actor, app = await new_accepted(make_ctx, clock, world)
    await run(make_ctx, lambda ctx: admission.confirm_result(ctx, world.city_gz, app.id))
    await run(make_ctx, lambda ctx: admission.check_in(ctx, world.staff_a, app.id, True))
    (t,) = await training_rows(make_ctx, app.id)
    start = clock.now().date()
    await run(make_ctx, lambda ctx: training.set_years(ctx, actor, t.id, 3, start))
    e = await refused(make_ctx, lambda ctx: admission.check_in(ctx, world.staff_a, app.id, False))
    assert e.code == "checkin.training_started"
    assert (await reread(make_ctx, Application, app.id)).checkin == CheckIn.REPORTED
    assert len(await training_rows(make_ctx, app.id)) == 1
