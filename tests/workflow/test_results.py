"""学员确认录取结果 (`workflow.results`): accept, decline, the timed transitions, and one
admission per cohort year."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from storage.db import Database
from storage.models import Application
from tests.conftest import CtxFactory
from tests.factories import World, make_batch, make_plan, make_trainee, sent, submitted
from tests.workflow.helpers import (
    audit_rows,
    kinds,
    outbox,
    refused,
    reread,
    run,
    wait_for_lock_waiter,
)
from workflow import admission, results
from workflow.actor import Actor
from workflow.clock import FrozenClock
from workflow.enums import ApplicationStatus as S
from workflow.errors import DomainError


async def new_sent(make_ctx: CtxFactory, world: World, **kw: object) -> tuple[Actor, Application]:
    async with make_ctx() as ctx:
        actor = await make_trainee(ctx)
        return actor, await sent(ctx, world, actor, **kw)  # type: ignore[arg-type]


async def status(make_ctx: CtxFactory, app_id: int) -> S:
    return S((await reread(make_ctx, Application, app_id)).status)


async def two_results_same_year(
    make_ctx: CtxFactory, world: World, *, cohort_year: int = 2026
) -> tuple[Actor, Application, Application]:
    """The same trainee admitted by base_a in the first batch and base_b in another batch."""
    async with make_ctx() as ctx:
        actor = await make_trainee(ctx)
        other = await make_batch(ctx, name="深圳住培招收", cohort_year=cohort_year)
        await make_plan(ctx, other, world.base_b, world.internal, 2)
        first = await sent(ctx, world, actor)
        second = await sent(ctx, world, actor, batch=other, base=world.base_b)
    return actor, first, second


# --- accept -----------------------------------------------------------------------------------


async def test_accept_before_the_lock_period_ends_is_refused(
    make_ctx: CtxFactory, world: World, clock: FrozenClock
) -> None:
    actor, app = await new_sent(make_ctx, world)
    clock.advance(hours=11, minutes=59, seconds=59)
    e = await refused(make_ctx, lambda ctx: results.accept(ctx, actor, app.id))
    assert e.code == "accept.locked"
    assert e.params == {"start": app.acceptable_at, "end": world.batch.confirm_end}
    assert await status(make_ctx, app.id) == S.SENT


async def test_accept_from_the_end_of_the_lock_period(
    make_ctx: CtxFactory, world: World, clock: FrozenClock
) -> None:
    actor, app = await new_sent(make_ctx, world)
    clock.advance(hours=12)
    await run(make_ctx, lambda ctx: results.accept(ctx, actor, app.id))
    row = await reread(make_ctx, Application, app.id)
    assert (row.status, row.answered_at) == (S.ACCEPTED, clock.now())
    audit = (await audit_rows(make_ctx, "application", app.id))[-1]
    assert (audit.action, audit.from_state, audit.to_state, audit.actor_id) == (
        "accept",
        "sent",
        "accepted",
        actor.account_id,
    )
    (notice,) = await outbox(make_ctx, kind="base_result_accepted")
    assert (notice.account_id, notice.subject) == (
        world.staff_a.account_id,
        f"application:{app.id}",
    )


async def test_accept_inside_the_window_after_it_became_acceptable(
    make_ctx: CtxFactory, world: World, clock: FrozenClock
) -> None:
    actor, app = await new_sent(make_ctx, world)
    clock.advance(days=5)
    await run(make_ctx, lambda ctx: results.make_acceptable(ctx, app.id))
    await run(make_ctx, lambda ctx: results.accept(ctx, actor, app.id))
    assert await status(make_ctx, app.id) == S.ACCEPTED
    audit = (await audit_rows(make_ctx, "application", app.id))[-1]
    assert (audit.from_state, audit.to_state) == ("acceptable", "accepted")


async def test_accept_at_the_last_moment_of_the_confirmation_period(
    make_ctx: CtxFactory, world: World, clock: FrozenClock
) -> None:
    actor, app = await new_sent(make_ctx, world)
    clock.set(world.batch.confirm_end)
    await run(make_ctx, lambda ctx: results.accept(ctx, actor, app.id))
    assert await status(make_ctx, app.id) == S.ACCEPTED


async def test_accept_after_the_confirmation_period_is_refused(
    make_ctx: CtxFactory, world: World, clock: FrozenClock
) -> None:
    actor, app = await new_sent(make_ctx, world)
    clock.set(world.batch.confirm_end + timedelta(seconds=1))
    # Even before the sweep marked it expired (an old message's button).
    e = await refused(make_ctx, lambda ctx: results.accept(ctx, actor, app.id))
    assert e.code == "accept.window_closed"
    await run(make_ctx, lambda ctx: results.expire(ctx, app.id))
    e = await refused(make_ctx, lambda ctx: results.accept(ctx, actor, app.id))
    assert e.code == "accept.window_closed"
    assert await status(make_ctx, app.id) == S.EXPIRED
    assert await outbox(make_ctx, kind="base_result_accepted") == []


@pytest.mark.parametrize("state", ["submitted", "pre_admitted", "admitted"])
async def test_a_result_never_sent_cannot_be_accepted(
    make_ctx: CtxFactory, world: World, clock: FrozenClock, state: str
) -> None:
    async with make_ctx() as ctx:
        actor = await make_trainee(ctx)
        app = await submitted(ctx, world, actor)
        if state != "submitted":
            await admission.pre_admit(ctx, world.staff_a, app.id)
        if state == "admitted":
            await admission.admit(ctx, world.staff_a, app.id)
    clock.advance(days=1)
    e = await refused(make_ctx, lambda ctx: results.accept(ctx, actor, app.id))
    assert e.code == "accept.no_result"
    assert await run(make_ctx, lambda ctx: results.make_acceptable(ctx, app.id)) is None
    assert await status(make_ctx, app.id) == S(state)


async def test_accept_twice_and_after_confirmation(
    make_ctx: CtxFactory, world: World, clock: FrozenClock
) -> None:
    actor, app = await new_sent(make_ctx, world)
    clock.advance(hours=13)
    await run(make_ctx, lambda ctx: results.accept(ctx, actor, app.id))
    e = await refused(make_ctx, lambda ctx: results.accept(ctx, actor, app.id))
    assert e.code == "accept.already_accepted"
    await run(make_ctx, lambda ctx: admission.confirm_result(ctx, world.city_gz, app.id))
    e = await refused(make_ctx, lambda ctx: results.accept(ctx, actor, app.id))
    assert e.code == "accept.already_accepted"
    e = await refused(make_ctx, lambda ctx: results.decline(ctx, actor, app.id))
    assert e.code == "accept.already_accepted"


async def test_only_the_trainee_answers_their_result(
    make_ctx: CtxFactory, world: World, clock: FrozenClock
) -> None:
    _actor, app = await new_sent(make_ctx, world)
    other, _ = await new_sent(make_ctx, world)
    clock.advance(hours=13)
    e = await refused(make_ctx, lambda ctx: results.accept(ctx, other, app.id))
    assert e.code == "not_found"
    e = await refused(make_ctx, lambda ctx: results.accept(ctx, world.staff_a, app.id))
    assert e.code == "forbidden.role"
    assert await status(make_ctx, app.id) == S.SENT


# --- decline ----------------------------------------------------------------------------------


async def test_decline_is_final(make_ctx: CtxFactory, world: World, clock: FrozenClock) -> None:
    actor, app = await new_sent(make_ctx, world)
    e = await refused(make_ctx, lambda ctx: results.decline(ctx, actor, app.id))
    assert e.code == "accept.locked"
    clock.advance(hours=13)
    await run(make_ctx, lambda ctx: results.decline(ctx, actor, app.id))
    row = await reread(make_ctx, Application, app.id)
    assert (row.status, row.answered_at) == (S.DECLINED, clock.now())
    assert (await audit_rows(make_ctx, "application", app.id))[-1].action == "decline"
    assert await kinds(make_ctx, world.staff_a.account_id) == ["base_result_declined"]
    for answer in (results.accept, results.decline):
        e = await refused(make_ctx, lambda ctx, a=answer: a(ctx, actor, app.id))
        assert e.code == "accept.already_declined"


async def test_decline_after_the_confirmation_period_is_refused(
    make_ctx: CtxFactory, world: World, clock: FrozenClock
) -> None:
    actor, app = await new_sent(make_ctx, world)
    clock.set(world.batch.confirm_end + timedelta(minutes=1))
    e = await refused(make_ctx, lambda ctx: results.decline(ctx, actor, app.id))
    assert e.code == "accept.window_closed"


# --- one admission per cohort year ------------------------------------------------------------


async def test_second_acceptance_in_the_same_cohort_year_is_refused(
    make_ctx: CtxFactory, world: World, clock: FrozenClock
) -> None:
    actor, first, second = await two_results_same_year(make_ctx, world)
    clock.advance(hours=13)
    await run(make_ctx, lambda ctx: results.accept(ctx, actor, first.id))
    e = await refused(make_ctx, lambda ctx: results.accept(ctx, actor, second.id))
    assert (e.code, e.params) == ("accept.second_admission", {"year": 2026})
    assert await status(make_ctx, second.id) == S.SENT
    # Declining the other result is still possible.
    await run(make_ctx, lambda ctx: results.decline(ctx, actor, second.id))
    assert await status(make_ctx, second.id) == S.DECLINED


async def test_after_a_decline_another_result_of_the_year_can_be_accepted(
    make_ctx: CtxFactory, world: World, clock: FrozenClock
) -> None:
    actor, first, second = await two_results_same_year(make_ctx, world)
    clock.advance(hours=13)
    await run(make_ctx, lambda ctx: results.decline(ctx, actor, first.id))
    await run(make_ctx, lambda ctx: results.accept(ctx, actor, second.id))
    assert await status(make_ctx, second.id) == S.ACCEPTED


async def test_acceptances_in_different_cohort_years_are_independent(
    make_ctx: CtxFactory, world: World, clock: FrozenClock
) -> None:
    actor, first, second = await two_results_same_year(make_ctx, world, cohort_year=2027)
    clock.advance(hours=13)
    await run(make_ctx, lambda ctx: results.accept(ctx, actor, first.id))
    await run(make_ctx, lambda ctx: results.accept(ctx, actor, second.id))
    assert (await status(make_ctx, first.id), await status(make_ctx, second.id)) == (
        S.ACCEPTED,
        S.ACCEPTED,
    )


async def test_the_database_holds_one_admission_per_year_by_itself(
    make_ctx: CtxFactory, world: World
) -> None:
    _actor, first, second = await two_results_same_year(make_ctx, world)
    async with make_ctx() as ctx:
        (await ctx.get(Application, first.id)).status = S.CONFIRMED
    with pytest.raises(IntegrityError):
        async with make_ctx() as ctx:
            (await ctx.get(Application, second.id)).status = S.ACCEPTED
    assert await status(make_ctx, second.id) == S.SENT


async def test_concurrent_acceptances_in_the_same_year_let_exactly_one_through(
    make_ctx: CtxFactory, world: World, clock: FrozenClock
) -> None:
    actor, first, second = await two_results_same_year(make_ctx, world)
    clock.advance(hours=13)

    async def answer(app_id: int) -> str:
        try:
            await run(make_ctx, lambda ctx: results.accept(ctx, actor, app_id))
        except DomainError as e:
            return e.code
        return "accepted"

    outcomes = await asyncio.gather(answer(first.id), answer(second.id))
    assert sorted(outcomes) == ["accept.second_admission", "accepted"]
    statuses = {await status(make_ctx, first.id), await status(make_ctx, second.id)}
    assert statuses == {S.ACCEPTED, S.SENT}


async def test_concurrent_race_is_stopped_by_the_unique_index_on_postgresql(
    make_ctx: CtxFactory, world: World, clock: FrozenClock, db: Database
) -> None:
    """The second acceptance passes the pre-check (the first is not committed yet), then waits
    on the one-admission-per-year index until the first commits, and is refused."""
    if db.backend != "postgresql":
        pytest.skip("SQLite takes the write lock at BEGIN: transactions never overlap")
    actor, first, second = await two_results_same_year(make_ctx, world)
    clock.advance(hours=13)

    async def accept_second() -> DomainError:
        return await refused(make_ctx, lambda ctx: results.accept(ctx, actor, second.id))

    async with make_ctx() as ctx:
        await results.accept(ctx, actor, first.id)
        racer = asyncio.create_task(accept_second())
        await wait_for_lock_waiter(db)
        assert not racer.done()
    e = await asyncio.wait_for(racer, timeout=10)
    assert (e.code, e.params) == ("accept.second_admission", {"year": 2026})
    assert (await status(make_ctx, first.id), await status(make_ctx, second.id)) == (
        S.ACCEPTED,
        S.SENT,
    )


# --- timed transitions ------------------------------------------------------------------------


async def test_make_acceptable_only_when_the_lock_period_has_passed(
    make_ctx: CtxFactory, world: World, clock: FrozenClock
) -> None:
    actor, app = await new_sent(make_ctx, world)
    clock.advance(hours=11, minutes=59)
    assert await run(make_ctx, lambda ctx: results.make_acceptable(ctx, app.id)) is None
    assert await status(make_ctx, app.id) == S.SENT
    clock.advance(minutes=1)
    assert await run(make_ctx, lambda ctx: results.make_acceptable(ctx, app.id)) is not None
    assert await status(make_ctx, app.id) == S.ACCEPTABLE
    audit = (await audit_rows(make_ctx, "application", app.id))[-1]
    assert (audit.action, audit.actor_id, audit.from_state, audit.to_state) == (
        "lock_passed",
        None,
        "sent",
        "acceptable",
    )
    (notice,) = await outbox(make_ctx, kind="result_acceptable")
    assert (notice.account_id, notice.urgent, notice.deadline_at) == (
        actor.account_id,
        True,
        world.batch.confirm_end,
    )
    # Idempotent: a second sweep changes nothing and sends nothing.
    clock.advance(hours=1)
    assert await run(make_ctx, lambda ctx: results.make_acceptable(ctx, app.id)) is None
    assert len(await outbox(make_ctx, kind="result_acceptable")) == 1


async def test_expire_only_after_the_confirmation_period(
    make_ctx: CtxFactory, world: World, clock: FrozenClock
) -> None:
    actor, app = await new_sent(make_ctx, world)
    clock.set(world.batch.confirm_end)
    assert await run(make_ctx, lambda ctx: results.expire(ctx, app.id)) is None
    assert await status(make_ctx, app.id) == S.SENT
    clock.advance(seconds=1)
    assert await run(make_ctx, lambda ctx: results.expire(ctx, app.id)) is not None
    row = await reread(make_ctx, Application, app.id)
    assert (row.status, row.answered_at) == (S.EXPIRED, clock.now())
    assert (await audit_rows(make_ctx, "application", app.id))[-1].action == "expire"
    assert await kinds(make_ctx, actor.account_id) == [
        "pre_admitted",
        "result_sent",
        "result_expired",
    ]
    assert await run(make_ctx, lambda ctx: results.expire(ctx, app.id)) is None


async def test_expire_leaves_answered_results_alone(
    make_ctx: CtxFactory, world: World, clock: FrozenClock
) -> None:
    actor, app = await new_sent(make_ctx, world)
    clock.advance(hours=13)
    await run(make_ctx, lambda ctx: results.accept(ctx, actor, app.id))
    clock.set(world.batch.confirm_end + timedelta(days=1))
    assert await run(make_ctx, lambda ctx: results.expire(ctx, app.id)) is None
    assert await status(make_ctx, app.id) == S.ACCEPTED


async def test_can_answer_follows_the_window(
    make_ctx: CtxFactory, world: World, clock: FrozenClock
) -> None:
    _actor, app = await new_sent(make_ctx, world)
    row = await reread(make_ctx, Application, app.id)
    batch = world.batch
    assert not results.can_answer(row, batch, clock.now())
    assert results.can_answer(row, batch, clock.now() + timedelta(hours=12))
    assert results.can_answer(row, batch, batch.confirm_end)
    assert not results.can_answer(row, batch, batch.confirm_end + timedelta(seconds=1))
