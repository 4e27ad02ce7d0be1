"""招生计划申报 (`workflow.plans`) and 学员调配 (`workflow.allocation`)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from storage.models import AllocationOffer, Application, Batch, Plan, Specialty
from tests.conftest import CtxFactory
from tests.factories import World, add, make_batch, make_trainee, submitted
from tests.workflow.helpers import actions, audit_rows, kinds, outbox, refused, reread, run
from workflow import admission, allocation, catalog, plans
from workflow.actor import Actor
from workflow.clock import FrozenClock
from workflow.enums import ApplicationStatus as S
from workflow.enums import OfferStatus, PlanStatus, Program
from workflow.errors import DomainError

# --- plans ------------------------------------------------------------------------------------


async def future_batch(make_ctx: CtxFactory) -> Batch:
    return await run(
        make_ctx,
        lambda ctx: make_batch(
            ctx,
            name="2027年住培招收",
            cohort_year=2027,
            opens=timedelta(days=30),
            closes=timedelta(days=40),
        ),
    )


async def declared(make_ctx: CtxFactory, world: World, batch: Batch, number: int = 5) -> Plan:
    return await run(
        make_ctx, lambda ctx: plans.declare(ctx, world.staff_a, batch.id, world.internal.id, number)
    )


async def test_declare_then_approve(make_ctx: CtxFactory, world: World, clock: FrozenClock) -> None:
    batch = await future_batch(make_ctx)
    plan = await declared(make_ctx, world, batch)
    row = await reread(make_ctx, Plan, plan.id)
    assert (row.status, row.declared, row.planned, row.base_id, row.declared_by) == (
        PlanStatus.DECLARED,
        5,
        0,
        world.base_a.id,
        world.staff_a.account_id,
    )
    # A declared plan is not shown to trainees yet.
    async with make_ctx() as ctx:
        assert await catalog.plan_for(ctx, batch.id, world.base_a.id, world.internal.id) is None
    await run(make_ctx, lambda ctx: plans.decide(ctx, world.province, plan.id))
    row = await reread(make_ctx, Plan, plan.id)
    assert (row.status, row.planned, row.reason, row.decided_by, row.decided_at) == (
        PlanStatus.APPROVED,
        5,
        None,
        world.province.account_id,
        clock.now(),
    )
    assert await actions(make_ctx, "plan", plan.id) == ["declare", "decide"]


async def test_adjust_needs_a_reason(make_ctx: CtxFactory, world: World) -> None:
    batch = await future_batch(make_ctx)
    plan = await declared(make_ctx, world, batch)
    for reason in (None, "  "):
        e = await refused(
            make_ctx, lambda ctx, r=reason: plans.decide(ctx, world.province, plan.id, 3, r)
        )
        assert e.code == "reason.required"
    assert (await reread(make_ctx, Plan, plan.id)).status == PlanStatus.DECLARED
    # The declared number needs no reason even when given explicitly.
    await run(make_ctx, lambda ctx: plans.decide(ctx, world.province, plan.id, 5))
    await declared(make_ctx, world, batch, 5)
    await run(make_ctx, lambda ctx: plans.decide(ctx, world.province, plan.id, 3, "床位不足"))
    row = await reread(make_ctx, Plan, plan.id)
    assert (row.status, row.declared, row.planned, row.reason) == (
        PlanStatus.ADJUSTED,
        5,
        3,
        "床位不足",
    )
    audit = (await audit_rows(make_ctx, "plan", plan.id))[-1]
    assert (audit.to_state, audit.reason) == ("adjusted", "床位不足")


async def test_only_the_province_decides(make_ctx: CtxFactory, world: World) -> None:
    batch = await future_batch(make_ctx)
    plan = await declared(make_ctx, world, batch)
    for actor in (world.staff_a, world.city_gz):
        e = await refused(make_ctx, lambda ctx, a=actor: plans.decide(ctx, a, plan.id))
        assert e.code == "forbidden.role"
    assert (await reread(make_ctx, Plan, plan.id)).status == PlanStatus.DECLARED


async def test_only_a_base_declares(make_ctx: CtxFactory, world: World) -> None:
    batch = await future_batch(make_ctx)
    for actor in (world.city_gz, world.province):
        e = await refused(
            make_ctx, lambda ctx, a=actor: plans.declare(ctx, a, batch.id, world.internal.id, 3)
        )
        assert e.code == "forbidden.role"


async def test_a_decided_plan_cannot_be_decided_again_until_declared_again(
    make_ctx: CtxFactory, world: World
) -> None:
    batch = await future_batch(make_ctx)
    plan = await declared(make_ctx, world, batch)
    await run(make_ctx, lambda ctx: plans.decide(ctx, world.province, plan.id))
    e = await refused(make_ctx, lambda ctx: plans.decide(ctx, world.province, plan.id))
    assert e.code == "plan.not_declared"
    again = await declared(make_ctx, world, batch, 7)
    assert again.id == plan.id
    row = await reread(make_ctx, Plan, plan.id)
    assert (row.status, row.declared, row.planned) == (PlanStatus.DECLARED, 7, 5)


@pytest.mark.parametrize("number", [-1, 1000, True, 2.5])
async def test_declared_number_range(make_ctx: CtxFactory, world: World, number: object) -> None:
    batch = await future_batch(make_ctx)
    e = await refused(
        make_ctx,
        lambda ctx: plans.declare(ctx, world.staff_a, batch.id, world.internal.id, number),  # type: ignore[arg-type]
    )
    assert e.code == "plan.number"


async def test_specialty_of_another_program_is_not_found(
    make_ctx: CtxFactory, world: World
) -> None:
    batch = await future_batch(make_ctx)
    gp = await run(
        make_ctx,
        lambda ctx: add(ctx, Specialty(code="9000", name="全科", program=Program.ASSISTANT_GP)),
    )
    e = await refused(make_ctx, lambda ctx: plans.declare(ctx, world.staff_a, batch.id, gp.id, 3))
    assert e.code == "not_found"


async def test_plans_only_before_the_batch_opens(
    make_ctx: CtxFactory, world: World, clock: FrozenClock
) -> None:
    # The world's batch opened yesterday.
    e = await refused(
        make_ctx,
        lambda ctx: plans.declare(ctx, world.staff_a, world.batch.id, world.internal.id, 9),
    )
    assert e.code == "plan.batch_open"
    batch = await future_batch(make_ctx)
    plan = await declared(make_ctx, world, batch)
    clock.set(batch.apply_start)
    e = await refused(make_ctx, lambda ctx: plans.decide(ctx, world.province, plan.id))
    assert e.code == "plan.batch_open"
    e = await refused(
        make_ctx, lambda ctx: plans.declare(ctx, world.staff_a, batch.id, world.internal.id, 9)
    )
    assert e.code == "plan.batch_open"
    row = await reread(make_ctx, Plan, plan.id)
    assert (row.status, row.declared) == (PlanStatus.DECLARED, 5)


# --- allocation -------------------------------------------------------------------------------


async def not_admitted(
    make_ctx: CtxFactory, world: World, *, reassign: bool = True, base_b: bool = True
) -> tuple[Actor, Application]:
    """A trainee who applied to 内科 at base_b (or base_a) and was not admitted there."""
    async with make_ctx() as ctx:
        actor = await make_trainee(ctx)
        base = world.base_b if base_b else world.base_a
        app = await submitted(ctx, world, actor, base=base, reassign=reassign)
        staff = world.staff_b if base_b else world.staff_a
        await admission.reject(ctx, staff, app.id, "名额已满")
    return actor, app


async def offer_pediatrics(make_ctx: CtxFactory, world: World, app: Application) -> AllocationOffer:
    return await run(
        make_ctx,
        lambda ctx: allocation.offer(
            ctx, world.staff_a, app.id, world.base_a.id, world.site_a.id, world.pediatrics.id
        ),
    )


async def test_offer_a_free_place(make_ctx: CtxFactory, world: World, clock: FrozenClock) -> None:
    actor, app = await not_admitted(make_ctx, world)
    offer = await offer_pediatrics(make_ctx, world, app)
    row = await reread(make_ctx, AllocationOffer, offer.id)
    assert (row.status, row.offered_by, row.expires_at) == (
        OfferStatus.OFFERED,
        world.staff_a.account_id,
        clock.now() + timedelta(hours=48),
    )
    (notice,) = await outbox(make_ctx, kind="allocation_offer")
    assert (notice.account_id, notice.urgent, notice.deadline_at) == (
        actor.account_id,
        True,
        row.expires_at,
    )
    assert await actions(make_ctx, "allocation_offer", offer.id) == ["offer"]
    # The open offer holds the place.
    async with make_ctx() as ctx:
        assert await catalog.filled(ctx, world.batch.id, world.base_a.id, world.pediatrics.id) == 1


async def test_the_province_may_offer_too(make_ctx: CtxFactory, world: World) -> None:
    _actor, app = await not_admitted(make_ctx, world)
    offer = await run(
        make_ctx,
        lambda ctx: allocation.offer(
            ctx, world.province, app.id, world.base_a.id, world.site_a.id, world.pediatrics.id
        ),
    )
    assert offer.status == OfferStatus.OFFERED


async def test_offer_only_to_a_not_admitted_trainee(make_ctx: CtxFactory, world: World) -> None:
    async with make_ctx() as ctx:
        app = await submitted(ctx, world, await make_trainee(ctx), base=world.base_b)
    e = await refused(
        make_ctx,
        lambda ctx: allocation.offer(
            ctx, world.staff_a, app.id, world.base_a.id, world.site_a.id, world.pediatrics.id
        ),
    )
    assert e.code == "alloc.not_eligible"


async def test_offer_only_to_a_trainee_who_accepted_reassignment(
    make_ctx: CtxFactory, world: World
) -> None:
    _actor, app = await not_admitted(make_ctx, world, reassign=False)
    e = await refused(
        make_ctx,
        lambda ctx: allocation.offer(
            ctx, world.staff_a, app.id, world.base_a.id, world.site_a.id, world.pediatrics.id
        ),
    )
    assert e.code == "alloc.no_reassignment"
    assert await outbox(make_ctx, kind="allocation_offer") == []


async def test_offer_only_with_a_free_place(make_ctx: CtxFactory, world: World) -> None:
    # 儿科 at base_a plans one place: taken by an admitted trainee.
    async with make_ctx() as ctx:
        holder = await submitted(ctx, world, await make_trainee(ctx), specialty=world.pediatrics)
        await admission.pre_admit(ctx, world.staff_a, holder.id)
        await admission.admit(ctx, world.staff_a, holder.id)
    _actor, app = await not_admitted(make_ctx, world)
    e = await refused(
        make_ctx,
        lambda ctx: allocation.offer(
            ctx, world.staff_a, app.id, world.base_a.id, world.site_a.id, world.pediatrics.id
        ),
    )
    assert e.code == "alloc.no_place"
    # No plan at all for 儿科 at base_b.
    e = await refused(
        make_ctx,
        lambda ctx: allocation.offer(
            ctx, world.staff_b, app.id, world.base_b.id, world.site_b.id, world.pediatrics.id
        ),
    )
    assert e.code == "alloc.no_place"


async def test_an_open_offer_holds_its_place_against_admission(
    make_ctx: CtxFactory, world: World
) -> None:
    _actor, app = await not_admitted(make_ctx, world)
    await offer_pediatrics(make_ctx, world, app)
    async with make_ctx() as ctx:
        other = await submitted(ctx, world, await make_trainee(ctx), specialty=world.pediatrics)
        await admission.pre_admit(ctx, world.staff_a, other.id)
    e = await refused(make_ctx, lambda ctx: admission.admit(ctx, world.staff_a, other.id))
    assert e.code == "admit.plan_full"


async def test_one_open_offer_at_a_time(make_ctx: CtxFactory, world: World) -> None:
    _actor, app = await not_admitted(make_ctx, world)
    first = await offer_pediatrics(make_ctx, world, app)
    async with make_ctx() as ctx:
        with pytest.raises(DomainError) as e:
            await allocation.offer(
                ctx, world.staff_a, app.id, world.base_a.id, world.site_a.id, world.internal.id
            )
        assert e.value.code == "alloc.offer_open"
        # The refusal came from a savepoint: the transaction goes on.
        offers = (await ctx.session.scalars(select(AllocationOffer))).all()
        assert [o.id for o in offers] == [first.id]
    assert len(await outbox(make_ctx, kind="allocation_offer")) == 1


async def test_offer_scope(make_ctx: CtxFactory, world: World) -> None:
    actor, app = await not_admitted(make_ctx, world)
    for who, code in [
        (world.staff_b, "forbidden.other_base"),  # a place at base_a
        (world.city_gz, "forbidden.role"),
        (actor, "forbidden.role"),
    ]:
        e = await refused(
            make_ctx,
            lambda ctx, w=who: allocation.offer(
                ctx, w, app.id, world.base_a.id, world.site_a.id, world.pediatrics.id
            ),
        )
        assert e.code == code
    e = await refused(
        make_ctx,
        lambda ctx: allocation.offer(
            ctx, world.staff_a, app.id, world.base_a.id, world.site_b.id, world.pediatrics.id
        ),
    )
    assert e.code == "not_found"  # the site is not base_a's


async def test_accepted_offer_becomes_an_admission_at_the_new_place(
    make_ctx: CtxFactory, world: World, clock: FrozenClock
) -> None:
    actor, app = await not_admitted(make_ctx, world)
    offer = await offer_pediatrics(make_ctx, world, app)
    clock.advance(hours=47)
    await run(make_ctx, lambda ctx: allocation.answer(ctx, actor, offer.id, True))
    row = await reread(make_ctx, AllocationOffer, offer.id)
    assert (row.status, row.answered_at) == (OfferStatus.ACCEPTED, clock.now())
    moved = await reread(make_ctx, Application, app.id)
    assert (
        moved.status,
        moved.base_id,
        moved.site_id,
        moved.specialty_id,
        moved.intended_specialty_id,
        moved.not_admitted_reason,
        moved.admitted_at,
    ) == (
        S.ADMITTED,
        world.base_a.id,
        world.site_a.id,
        world.pediatrics.id,
        world.pediatrics.id,
        None,
        clock.now(),
    )
    assert (await actions(make_ctx, "application", app.id))[-1] == "allocation_accepted"
    answer = (await audit_rows(make_ctx, "allocation_offer", offer.id))[-1]
    assert (answer.action, answer.actor_id, answer.from_state, answer.to_state) == (
        "answer",
        actor.account_id,
        "offered",
        "accepted",
    )
    assert await kinds(make_ctx, world.staff_a.account_id) == ["base_allocation_accepted"]
    # The place stays taken, and the new base follows the normal path.
    async with make_ctx() as ctx:
        assert await catalog.filled(ctx, world.batch.id, world.base_a.id, world.pediatrics.id) == 1
    await run(make_ctx, lambda ctx: admission.send_results(ctx, world.staff_a, [app.id]))
    assert (await reread(make_ctx, Application, app.id)).status == S.SENT


async def test_refused_offer_frees_the_place_and_allows_another_offer(
    make_ctx: CtxFactory, world: World
) -> None:
    actor, app = await not_admitted(make_ctx, world)
    offer = await offer_pediatrics(make_ctx, world, app)
    await run(make_ctx, lambda ctx: allocation.answer(ctx, actor, offer.id, False))
    assert (await reread(make_ctx, AllocationOffer, offer.id)).status == OfferStatus.REFUSED
    assert (await reread(make_ctx, Application, app.id)).status == S.NOT_ADMITTED
    answer = (await audit_rows(make_ctx, "allocation_offer", offer.id))[-1]
    assert (answer.action, answer.actor_id, answer.from_state, answer.to_state) == (
        "answer",
        actor.account_id,
        "offered",
        "refused",
    )
    async with make_ctx() as ctx:
        assert await catalog.filled(ctx, world.batch.id, world.base_a.id, world.pediatrics.id) == 0
    again = await offer_pediatrics(make_ctx, world, app)
    assert again.id != offer.id
    e = await refused(make_ctx, lambda ctx: allocation.answer(ctx, actor, offer.id, True))
    assert (e.code, e.params) == ("alloc.answered", {"status": "refused"})


async def test_offer_expires_only_after_its_period(
    make_ctx: CtxFactory, world: World, clock: FrozenClock
) -> None:
    actor, app = await not_admitted(make_ctx, world)
    offer = await offer_pediatrics(make_ctx, world, app)
    clock.advance(hours=48)
    assert await run(make_ctx, lambda ctx: allocation.expire_offer(ctx, offer.id)) is None
    assert (await reread(make_ctx, AllocationOffer, offer.id)).status == OfferStatus.OFFERED
    clock.advance(seconds=1)
    e = await refused(make_ctx, lambda ctx: allocation.answer(ctx, actor, offer.id, True))
    assert e.code == "alloc.offer_expired"
    assert (await reread(make_ctx, Application, app.id)).status == S.NOT_ADMITTED
    assert await run(make_ctx, lambda ctx: allocation.expire_offer(ctx, offer.id)) is not None
    row = await reread(make_ctx, AllocationOffer, offer.id)
    assert (row.status, row.answered_at) == (OfferStatus.EXPIRED, clock.now())
    audit = (await audit_rows(make_ctx, "allocation_offer", offer.id))[-1]
    assert (audit.action, audit.actor_id) == ("expire", None)
    assert await run(make_ctx, lambda ctx: allocation.expire_offer(ctx, offer.id)) is None
    async with make_ctx() as ctx:
        assert await catalog.filled(ctx, world.batch.id, world.base_a.id, world.pediatrics.id) == 0
    e = await refused(make_ctx, lambda ctx: allocation.answer(ctx, actor, offer.id, True))
    assert e.code == "alloc.answered"


async def test_only_the_trainee_answers_their_offer(make_ctx: CtxFactory, world: World) -> None:
    _actor, app = await not_admitted(make_ctx, world)
    offer = await offer_pediatrics(make_ctx, world, app)
    async with make_ctx() as ctx:
        stranger = await make_trainee(ctx)
    e = await refused(make_ctx, lambda ctx: allocation.answer(ctx, stranger, offer.id, True))
    assert e.code == "not_found"
    e = await refused(make_ctx, lambda ctx: allocation.answer(ctx, world.staff_a, offer.id, True))
    assert e.code == "forbidden.role"
    assert (await reread(make_ctx, AllocationOffer, offer.id)).status == OfferStatus.OFFERED
