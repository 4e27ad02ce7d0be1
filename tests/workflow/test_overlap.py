"""Rules that hold under concurrency because of a row lock or a database constraint, each tried
with two transactions that really overlap (PostgreSQL).

Both transactions are open on two connections and have run a first statement before either
calls its transition. The first then runs its transition to the end, its changes flushed but
not committed; the second runs its own meanwhile, and is seen either waiting on a lock the first
holds (`pg_blocking_pids`) or done while the first is still open. Only then does the first
commit, and the second goes on. This is the interleaving in which a missing lock or constraint
lets both through; with them, exactly one has its effect and the other is refused or, having
waited, sees the new state.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text

from storage.crypto import FieldCipher
from storage.db import Database
from storage.models import AllocationOffer, Application, AuditLog, Specialty
from tests.conftest import CtxFactory
from tests.factories import World, add, make_batch, make_plan, make_trainee, sent, submitted
from tests.workflow.helpers import actions, kinds, outbox, reread, run
from workflow import admission, allocation, results
from workflow.actor import Actor
from workflow.clock import FrozenClock
from workflow.context import Ctx
from workflow.enums import ApplicationStatus as S
from workflow.enums import OfferStatus
from workflow.errors import DomainError


@pytest.fixture(autouse=True)
def postgresql_only(db: Database) -> None:
    if db.backend != "postgresql":
        pytest.skip("SQLite takes its one write lock at BEGIN: two writers never overlap")


Transition = Callable[[Ctx], Awaitable[Any]]


@dataclass
class Raced:
    first: Any  # what the first transition returned, or the DomainError it raised
    second: Any
    second_waited: bool  # the second was seen waiting on a lock the first held

    def code(self, which: str) -> str | None:
        outcome = getattr(self, which)
        return outcome.code if isinstance(outcome, DomainError) else None


async def overlap(
    db: Database,
    cipher: FieldCipher,
    data_dir: Path,
    first: Transition,
    second: Transition,
    *,
    first_clock: FrozenClock,
    second_clock: FrozenClock | None = None,
) -> Raced:
    """Run two transitions in two overlapping transactions (see the module's docstring)."""
    async with db.sessions() as one, db.sessions() as two:
        await one.begin()
        await two.begin()
        pid_one = await one.scalar(text("SELECT pg_backend_pid()"))
        pid_two = await two.scalar(text("SELECT pg_backend_pid()"))
        assert pid_one != pid_two  # two connections, both inside their transaction

        def ctx(session: Any, clock: FrozenClock) -> Ctx:
            return Ctx(session=session, clock=clock, cipher=cipher, upload_dir=data_dir / "files")

        async def attempt(session: Any, transition: Transition, clock: FrozenClock) -> Any:
            try:
                outcome = await transition(ctx(session, clock))
                await session.flush()
                return outcome
            except DomainError as e:
                return e

        first_outcome = await attempt(one, first, first_clock)
        racer = asyncio.create_task(attempt(two, second, second_clock or first_clock))
        waited = await blocked_by(db, pid_two, pid_one, racer)
        await (one.rollback() if isinstance(first_outcome, DomainError) else one.commit())
        second_outcome = await asyncio.wait_for(racer, timeout=10)
        await (two.rollback() if isinstance(second_outcome, DomainError) else two.commit())
    return Raced(first_outcome, second_outcome, waited)


async def blocked_by(db: Database, pid: int, holder: int, task: asyncio.Task[Any]) -> bool:
    """Until the backend `pid` waits on a lock `holder` holds (True) or `task` is done (False);
    polled, bounded."""
    query = text("SELECT :holder = ANY(pg_blocking_pids(:pid))")
    deadline = asyncio.get_running_loop().time() + 10
    async with db.engine.connect() as conn:
        while not task.done():
            if (await conn.execute(query, {"pid": pid, "holder": holder})).scalar():
                return True
            await conn.rollback()
            assert asyncio.get_running_loop().time() < deadline, "the second never got anywhere"
            await asyncio.sleep(0.005)
    return False


Race = Callable[..., Awaitable[Raced]]


@pytest.fixture
def race(db: Database, cipher: FieldCipher, data_dir: Path, clock: FrozenClock) -> Race:
    """`await race(first, second)`, with the test's clock unless clocks are given."""

    async def go(first: Transition, second: Transition, **clocks: FrozenClock) -> Raced:
        clocks.setdefault("first_clock", clock)
        return await overlap(db, cipher, data_dir, first, second, **clocks)

    return go


async def status(make_ctx: CtxFactory, app_id: int) -> S:
    return S((await reread(make_ctx, Application, app_id)).status)


async def count(make_ctx: CtxFactory, stmt: Any) -> int:
    async with make_ctx() as ctx:
        return int(await ctx.session.scalar(stmt) or 0)


# --- the last place of a plan (the plan's row lock in admission.admit) -------------------------


async def test_two_admissions_for_the_last_place(
    make_ctx: CtxFactory, world: World, race: Race
) -> None:
    async with make_ctx() as ctx:  # 儿科 at base_a plans one place
        apps = [
            await submitted(ctx, world, await make_trainee(ctx), specialty=world.pediatrics)
            for _ in range(2)
        ]
        for app in apps:
            await admission.pre_admit(ctx, world.staff_a, app.id)
    first, second = (a.id for a in apps)

    raced = await race(
        lambda ctx: admission.admit(ctx, world.staff_a, first),
        lambda ctx: admission.admit(ctx, world.staff_a, second),
    )
    assert raced.second_waited
    assert raced.code("first") is None
    assert (raced.code("second"), raced.second.params) == ("admit.plan_full", {"planned": 1})
    assert (await status(make_ctx, first), await status(make_ctx, second)) == (
        S.ADMITTED,
        S.PRE_ADMITTED,
    )
    assert "admit" not in await actions(make_ctx, "application", second)


# --- make-acceptable against a cancel inside the lock period (row lock in make_acceptable) ------


async def test_the_lock_period_ending_while_the_base_cancels(
    make_ctx: CtxFactory, world: World, clock: FrozenClock, race: Race
) -> None:
    """The base cancels a second before the lock period ends; the sweep's make_acceptable, at
    its end, runs while the cancel is not yet committed. It waits and finds nothing to do."""
    async with make_ctx() as ctx:
        trainee = await make_trainee(ctx)
        app = await sent(ctx, world, trainee)
    staff_clock = FrozenClock(app.acceptable_at - timedelta(seconds=1))
    sweep_clock = FrozenClock(app.acceptable_at)

    raced = await race(
        lambda ctx: admission.cancel_admission(ctx, world.staff_a, app.id),
        lambda ctx: results.make_acceptable(ctx, app.id),
        first_clock=staff_clock,
        second_clock=sweep_clock,
    )
    assert raced.second_waited
    assert raced.code("first") is None and raced.second is None
    row = await reread(make_ctx, Application, app.id)
    assert (row.status, row.sent_at, row.acceptable_at) == (S.PRE_ADMITTED, None, None)
    assert (await actions(make_ctx, "application", app.id))[-1] == "cancel_admission"
    assert "lock_passed" not in await actions(make_ctx, "application", app.id)
    told = await kinds(make_ctx, trainee.account_id)
    assert told[-2:] == ["result_sent", "result_cancelled"] and "result_acceptable" not in told


# --- one open offer per application (the partial unique index) ---------------------------------


async def not_admitted(make_ctx: CtxFactory, world: World) -> tuple[Actor, Application]:
    """A trainee who applied to 内科 at base_b, accepted reassignment, and was not admitted."""
    async with make_ctx() as ctx:
        actor = await make_trainee(ctx)
        app = await submitted(ctx, world, actor, base=world.base_b)
        await admission.reject(ctx, world.staff_b, app.id, "名额已满")
    return actor, app


def offer(world: World, app_id: int, specialty: Specialty) -> Transition:
    return lambda ctx: allocation.offer(
        ctx, world.staff_a, app_id, world.base_a.id, world.site_a.id, specialty.id
    )


async def open_offers(make_ctx: CtxFactory, app_id: int) -> int:
    return await count(
        make_ctx,
        select(func.count(AllocationOffer.id)).where(
            AllocationOffer.application_id == app_id,
            AllocationOffer.status == OfferStatus.OFFERED,
        ),
    )


async def test_two_offers_to_one_trainee_at_once(
    make_ctx: CtxFactory, world: World, race: Race
) -> None:
    """Two places (two specialties, two plans) offered to the same trainee at the same time."""
    actor, app = await not_admitted(make_ctx, world)
    raced = await race(offer(world, app.id, world.pediatrics), offer(world, app.id, world.internal))
    assert raced.second_waited
    assert raced.code("first") is None and raced.code("second") == "alloc.offer_open"
    assert await open_offers(make_ctx, app.id) == 1
    assert await kinds(make_ctx, actor.account_id) == ["not_admitted", "allocation_offer"]


async def test_an_offer_while_the_trainee_accepts_an_earlier_one(
    make_ctx: CtxFactory, world: World, race: Race
) -> None:
    """The trainee accepts an offer (now admitted) while the base offers another place: the new
    offer waits on the application's row lock and finds the trainee no longer eligible."""
    actor, app = await not_admitted(make_ctx, world)
    earlier = await run(make_ctx, offer(world, app.id, world.pediatrics))
    raced = await race(
        lambda ctx: allocation.answer(ctx, actor, earlier.id, True),
        offer(world, app.id, world.internal),
    )
    assert raced.second_waited
    assert raced.code("first") is None and raced.code("second") == "alloc.not_eligible"
    assert await open_offers(make_ctx, app.id) == 0
    assert await status(make_ctx, app.id) == S.ADMITTED


async def test_the_last_place_offered_to_two_trainees_at_once(
    make_ctx: CtxFactory, world: World, race: Race
) -> None:
    """儿科 at base_a has one place: two offers of it to two trainees (the plan's row lock)."""
    (_one, first), (_two, second) = [await not_admitted(make_ctx, world) for _ in range(2)]
    raced = await race(
        offer(world, first.id, world.pediatrics), offer(world, second.id, world.pediatrics)
    )
    assert raced.second_waited
    assert raced.code("first") is None and raced.code("second") == "alloc.no_place"
    assert (await open_offers(make_ctx, first.id), await open_offers(make_ctx, second.id)) == (1, 0)


# --- one accepted admission per trainee and cohort year (the partial unique index) --------------


async def test_two_acceptances_in_one_cohort_year(
    make_ctx: CtxFactory, world: World, clock: FrozenClock, race: Race
) -> None:
    """Each acceptance locks its own application: only the index sees both."""
    async with make_ctx() as ctx:
        actor = await make_trainee(ctx)
        other = await make_batch(ctx, name="深圳住培招收", cohort_year=2026)
        await make_plan(ctx, other, world.base_b, world.internal, 2)
        first = await sent(ctx, world, actor)
        second = await sent(ctx, world, actor, batch=other, base=world.base_b)
    clock.advance(hours=13)

    raced = await race(
        lambda ctx: results.accept(ctx, actor, first.id),
        lambda ctx: results.accept(ctx, actor, second.id),
    )
    assert raced.second_waited
    assert raced.code("first") is None
    assert (raced.code("second"), raced.second.params) == (
        "accept.second_admission",
        {"year": 2026},
    )
    assert (await status(make_ctx, first.id), await status(make_ctx, second.id)) == (
        S.ACCEPTED,
        S.SENT,
    )


# --- 发送录取结果: at most 20 at once, all of them or none (the applications' row locks) ---------


async def test_two_sends_that_share_a_trainee(
    make_ctx: CtxFactory, world: World, race: Race
) -> None:
    """Twenty results sent while another send of three, one of them among the twenty, runs: the
    shared one is sent once, and the other send is refused as a whole."""
    async with make_ctx() as ctx:
        surgery = await add(ctx, Specialty(code="0300", name="外科"))
        await make_plan(ctx, world.batch, world.base_a, surgery, 25)
        ids = []
        for _ in range(22):
            app = await submitted(ctx, world, await make_trainee(ctx), specialty=surgery)
            await admission.pre_admit(ctx, world.staff_a, app.id)
            await admission.admit(ctx, world.staff_a, app.id)
            ids.append(app.id)
    twenty, three = ids[:20], ids[19:]

    raced = await race(
        lambda ctx: admission.send_results(ctx, world.staff_a, twenty),
        lambda ctx: admission.send_results(ctx, world.staff_a, three),
    )
    assert raced.second_waited
    assert raced.code("first") is None and raced.code("second") == "state.wrong"
    assert [await status(make_ctx, i) for i in ids] == [S.SENT] * 20 + [S.ADMITTED] * 2
    notices = await outbox(make_ctx, kind="result_sent")
    assert sorted(n.subject for n in notices) == sorted(f"application:{i}" for i in twenty)
    sends = await count(
        make_ctx,
        select(func.count(AuditLog.id)).where(AuditLog.action == "send_result"),
    )
    assert sends == 20
