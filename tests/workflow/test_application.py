"""学员报名: the wizard, its draft and the irreversible submit (`workflow.application`)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from storage.models import Application, Specialty
from tests.conftest import CtxFactory
from tests.factories import World, add, make_batch, make_plan, make_trainee, submitted
from tests.workflow.helpers import actions, refused, reread, run
from workflow import application, catalog, profile
from workflow.actor import Actor
from workflow.clock import FrozenClock
from workflow.context import Ctx
from workflow.enums import ApplicationStatus as S
from workflow.enums import PersonnelType as P
from workflow.enums import Program


async def trainee(make_ctx: CtxFactory, **kw: object) -> Actor:
    return await run(make_ctx, lambda ctx: make_trainee(ctx, **kw))  # type: ignore[arg-type]


async def draft(make_ctx: CtxFactory, world: World, actor: Actor, *, upto: str = "review") -> int:
    """Walk the wizard up to (not including) `upto`; return the draft's id."""
    steps = [
        (
            "personnel_type",
            lambda ctx, i: application.choose_personnel_type(ctx, actor, i, P.SOCIAL),
        ),
        ("confirm_info", lambda ctx, i: application.confirm_info(ctx, actor, i)),
        (
            "supplement",
            lambda ctx, i: application.save_supplement(
                ctx, actor, i, {"fresh_graduate": True, "has_qualification": False}
            ),
        ),
        ("finish_supplement", lambda ctx, i: application.finish_supplement(ctx, actor, i)),
        (
            "specialty",
            lambda ctx, i: application.choose_specialty(ctx, actor, i, world.internal.id),
        ),
        ("base", lambda ctx, i: application.choose_base(ctx, actor, i, world.base_a.id)),
        ("site", lambda ctx, i: application.choose_site(ctx, actor, i, world.site_a.id)),
        ("reassignment", lambda ctx, i: application.set_reassignment(ctx, actor, i, True)),
    ]
    app = await run(make_ctx, lambda ctx: application.start(ctx, actor, world.batch.id))
    assert app.id is not None
    for name, step in steps:
        if name == upto:
            break
        await run(make_ctx, lambda ctx, s=step: s(ctx, app.id))
    return app.id


# --- choosing a batch -------------------------------------------------------------------------


async def test_start_creates_a_draft_and_resumes_it(make_ctx: CtxFactory, world: World) -> None:
    actor = await trainee(make_ctx)
    first = await run(make_ctx, lambda ctx: application.start(ctx, actor, world.batch.id))
    again = await run(make_ctx, lambda ctx: application.start(ctx, actor, world.batch.id))
    assert first.id == again.id
    row = await reread(make_ctx, Application, first.id)
    assert (row.status, row.step, row.cohort_year) == (S.DRAFT, "personnel_type", 2026)
    assert await actions(make_ctx, "application", first.id) == ["draft_started"]


@pytest.mark.parametrize(
    ("opens", "closes"),
    [(timedelta(days=-10), timedelta(seconds=-1)), (timedelta(seconds=1), timedelta(days=10))],
    ids=["closed", "not_yet_open"],
)
async def test_batch_outside_its_application_period_is_refused(
    make_ctx: CtxFactory, world: World, opens: timedelta, closes: timedelta
) -> None:
    actor = await trainee(make_ctx)
    batch = await run(
        make_ctx, lambda ctx: make_batch(ctx, name="其他批次", opens=opens, closes=closes)
    )
    e = await refused(make_ctx, lambda ctx: application.start(ctx, actor, batch.id))
    assert e.code == "app.batch_closed"
    assert e.params["batch"] == "其他批次"


async def test_batch_open_at_both_ends_of_its_period(
    make_ctx: CtxFactory, world: World, clock: FrozenClock
) -> None:
    actor = await trainee(make_ctx)
    clock.set(world.batch.apply_end)
    app = await run(make_ctx, lambda ctx: application.start(ctx, actor, world.batch.id))
    assert app.status == S.DRAFT
    clock.advance(seconds=1)
    e = await refused(
        make_ctx, lambda ctx: application.choose_personnel_type(ctx, actor, app.id, P.SOCIAL)
    )
    assert e.code == "app.batch_closed"


async def test_batch_of_another_program_is_refused(make_ctx: CtxFactory, world: World) -> None:
    actor = await trainee(make_ctx)
    gp = await run(
        make_ctx, lambda ctx: make_batch(ctx, name="助理全科", program=Program.ASSISTANT_GP)
    )
    e = await refused(make_ctx, lambda ctx: application.start(ctx, actor, gp.id))
    assert e.code == "app.wrong_program"


async def test_batch_applying_to_no_personnel_type_is_not_open(
    make_ctx: CtxFactory, world: World
) -> None:
    actor = await trainee(make_ctx)
    batch = await run(make_ctx, lambda ctx: make_batch(ctx, name="无适用类型", types=()))
    e = await refused(make_ctx, lambda ctx: application.start(ctx, actor, batch.id))
    assert e.code == "app.batch_closed"


async def test_incomplete_profile_cannot_start(make_ctx: CtxFactory, world: World) -> None:
    actor = await trainee(make_ctx, complete=False)
    e = await refused(make_ctx, lambda ctx: application.start(ctx, actor, world.batch.id))
    assert e.code == "app.profile_incomplete"
    assert e.params["missing"] == "basic.missing_ethnicity"


async def test_staff_cannot_apply(make_ctx: CtxFactory, world: World) -> None:
    e = await refused(make_ctx, lambda ctx: application.start(ctx, world.staff_a, world.batch.id))
    assert e.code == "forbidden.role"


# --- personnel type ---------------------------------------------------------------------------


async def test_type_not_in_batch_is_refused(make_ctx: CtxFactory, world: World) -> None:
    actor = await trainee(make_ctx)
    batch = await run(make_ctx, lambda ctx: make_batch(ctx, name="仅社会人", types=(P.SOCIAL,)))
    app = await run(make_ctx, lambda ctx: application.start(ctx, actor, batch.id))
    e = await refused(
        make_ctx, lambda ctx: application.choose_personnel_type(ctx, actor, app.id, P.MASTERS)
    )
    assert (e.code, e.params) == ("app.type_not_in_batch", {"personnel_type": "masters"})
    e = await refused(
        make_ctx, lambda ctx: application.choose_personnel_type(ctx, actor, app.id, "nobody")
    )
    assert e.code == "field.choice"
    assert (await reread(make_ctx, Application, app.id)).personnel_type is None


async def test_type_must_fit_the_work_module(make_ctx: CtxFactory, world: World) -> None:
    social = await trainee(make_ctx)
    employed = await trainee(make_ctx, has_work_unit=True)
    app = await draft(make_ctx, world, social, upto="personnel_type")
    e = await refused(
        make_ctx, lambda ctx: application.choose_personnel_type(ctx, social, app, P.OWN_UNIT)
    )
    assert e.code == "apply.needs_current_unit"
    app2 = await draft(make_ctx, world, employed, upto="personnel_type")
    for ptype in (P.SOCIAL, P.MASTERS):
        e = await refused(
            make_ctx,
            lambda ctx, t=ptype: application.choose_personnel_type(ctx, employed, app2, t),
        )
        assert e.code == "apply.must_have_no_unit"
    for ptype in (P.OWN_UNIT, P.ENTRUSTED):
        await run(
            make_ctx,
            lambda ctx, t=ptype: application.choose_personnel_type(ctx, employed, app2, t),
        )
    row = await reread(make_ctx, Application, app2)
    assert (row.personnel_type, row.step) == (P.ENTRUSTED, "confirm_info")


async def test_work_pairing_checked_again_at_submit(make_ctx: CtxFactory, world: World) -> None:
    actor = await trainee(make_ctx, has_work_unit=True)
    app = await run(make_ctx, lambda ctx: application.start(ctx, actor, world.batch.id))
    await run(
        make_ctx, lambda ctx: application.choose_personnel_type(ctx, actor, app.id, P.OWN_UNIT)
    )
    await run(make_ctx, lambda ctx: _finish_wizard(ctx, world, actor, app.id))
    # 无 after choosing 本单位住院医师: the profile is complete, the pairing is not.
    await run(make_ctx, lambda ctx: profile.set_has_work_unit(ctx, actor, False))
    e = await refused(make_ctx, lambda ctx: application.submit(ctx, actor, app.id))
    assert e.code == "apply.needs_current_unit"
    assert (await reread(make_ctx, Application, app.id)).status == S.DRAFT


async def _finish_wizard(ctx: Ctx, world: World, actor: Actor, app_id: int) -> None:
    await application.confirm_info(ctx, actor, app_id)
    await application.save_supplement(
        ctx, actor, app_id, {"fresh_graduate": False, "has_qualification": False}
    )
    await application.finish_supplement(ctx, actor, app_id)
    await application.choose_specialty(ctx, actor, app_id, world.internal.id)
    await application.choose_base(ctx, actor, app_id, world.base_a.id)
    await application.choose_site(ctx, actor, app_id, world.site_a.id)
    await application.set_reassignment(ctx, actor, app_id, False)


# --- supplement -------------------------------------------------------------------------------


async def test_supplement_rules(make_ctx: CtxFactory, world: World) -> None:
    actor = await trainee(make_ctx)
    app = await draft(make_ctx, world, actor, upto="supplement")
    for data, code in [
        ({"hobby": "x"}, "field.unknown"),
        ({"fresh_graduate": "yes"}, "field.choice"),
        ({"qualification_no": "12"}, "supplement.qualification_no"),
    ]:
        e = await refused(
            make_ctx, lambda ctx, d=data: application.save_supplement(ctx, actor, app, d)
        )
        assert e.code == code
    await run(
        make_ctx,
        lambda ctx: application.save_supplement(
            ctx, actor, app, {"fresh_graduate": True, "has_qualification": True}
        ),
    )
    e = await refused(make_ctx, lambda ctx: application.finish_supplement(ctx, actor, app))
    assert e.code == "supplement.incomplete"
    await run(
        make_ctx,
        lambda ctx: application.save_supplement(
            ctx, actor, app, {"qualification_no": "2021440100"}
        ),
    )
    await run(make_ctx, lambda ctx: application.finish_supplement(ctx, actor, app))
    row = await reread(make_ctx, Application, app)
    assert row.supplement == {
        "fresh_graduate": True,
        "has_qualification": True,
        "qualification_no": "2021440100",
    }
    assert row.step == "specialty"


# --- the choice -------------------------------------------------------------------------------


async def test_choice_shows_plan_and_applicants(make_ctx: CtxFactory, world: World) -> None:
    async with make_ctx() as ctx:
        await submitted(ctx, world, await make_trainee(ctx))
        await make_trainee(ctx)  # a draft does not count
        rows = await catalog.national_bases_for(ctx, world.batch.id, world.internal.id)
        sites = await catalog.local_bases_for(
            ctx, world.batch.id, world.internal.id, world.base_a.id
        )
    assert [(r.base_id, r.planned, r.applicants) for r in rows] == [
        (world.base_a.id, 2, 1),
        (world.base_b.id, 2, 0),
    ]
    assert [(r.base_id, r.applicants) for r in sites] == [(world.site_a.id, 1)]


async def test_specialty_without_a_plan_is_refused(make_ctx: CtxFactory, world: World) -> None:
    actor = await trainee(make_ctx)
    surgery = await run(make_ctx, lambda ctx: add(ctx, Specialty(code="0300", name="外科")))
    app = await draft(make_ctx, world, actor, upto="specialty")
    e = await refused(
        make_ctx, lambda ctx: application.choose_specialty(ctx, actor, app, surgery.id)
    )
    assert e.code == "app.no_plan_for_specialty"
    e = await refused(make_ctx, lambda ctx: application.choose_specialty(ctx, actor, app, 9999))
    assert e.code == "not_found"


async def test_base_without_a_plan_for_the_specialty_is_refused(
    make_ctx: CtxFactory, world: World
) -> None:
    actor = await trainee(make_ctx)
    app = await draft(make_ctx, world, actor, upto="base")
    e = await refused(
        make_ctx, lambda ctx: application.choose_site(ctx, actor, app, world.site_a.id)
    )
    assert (e.code, e.params) == ("app.step_missing", {"step": "base"})
    await run(
        make_ctx, lambda ctx: application.choose_specialty(ctx, actor, app, world.pediatrics.id)
    )
    e = await refused(
        make_ctx, lambda ctx: application.choose_base(ctx, actor, app, world.base_b.id)
    )
    assert e.code == "app.no_plan_at_base"
    e = await refused(
        make_ctx, lambda ctx: application.choose_base(ctx, actor, app, world.site_a.id)
    )
    assert e.code == "not_found"  # a local base is not a national base


async def test_site_must_belong_to_the_chosen_base(make_ctx: CtxFactory, world: World) -> None:
    actor = await trainee(make_ctx)
    app = await draft(make_ctx, world, actor, upto="site")
    e = await refused(
        make_ctx, lambda ctx: application.choose_site(ctx, actor, app, world.site_b.id)
    )
    assert e.code == "not_found"
    await run(make_ctx, lambda ctx: application.choose_site(ctx, actor, app, world.site_a.id))
    row = await reread(make_ctx, Application, app)
    assert row.specialty_id == row.intended_specialty_id == world.internal.id


async def test_another_specialty_voids_the_choice(make_ctx: CtxFactory, world: World) -> None:
    actor = await trainee(make_ctx)
    app = await draft(make_ctx, world, actor)
    await run(
        make_ctx, lambda ctx: application.choose_specialty(ctx, actor, app, world.pediatrics.id)
    )
    row = await reread(make_ctx, Application, app)
    assert (row.intended_specialty_id, row.specialty_id, row.base_id, row.site_id) == (
        world.pediatrics.id,
        None,
        None,
        None,
    )
    e = await refused(make_ctx, lambda ctx: application.submit(ctx, actor, app))
    assert (e.code, e.params) == ("app.step_missing", {"step": "base"})


async def test_choice_specialty_must_equal_the_intended_one(
    make_ctx: CtxFactory, world: World
) -> None:
    actor = await trainee(make_ctx)
    app = await draft(make_ctx, world, actor)
    async with make_ctx() as ctx:  # a stale or forged draft: the wizard itself never does this
        await ctx.session.execute(
            update(Application)
            .where(Application.id == app)
            .values(specialty_id=world.pediatrics.id)
        )
    e = await refused(make_ctx, lambda ctx: application.submit(ctx, actor, app))
    assert e.code == "app.choice_specialty_mismatch"
    assert (await reread(make_ctx, Application, app)).status == S.DRAFT


# --- draft, back buttons, submit --------------------------------------------------------------


async def test_draft_is_saved_and_can_be_edited_and_stepped_back(
    make_ctx: CtxFactory, world: World
) -> None:
    actor = await trainee(make_ctx)
    app = await draft(make_ctx, world, actor)
    assert (await reread(make_ctx, Application, app)).step == "review"
    await run(make_ctx, lambda ctx: application.go_to_step(ctx, actor, app, "specialty"))
    row = await reread(make_ctx, Application, app)
    assert (row.step, row.base_id, row.accept_reassignment) == ("specialty", world.base_a.id, True)
    await run(make_ctx, lambda ctx: application.set_reassignment(ctx, actor, app, False))
    assert (await reread(make_ctx, Application, app)).accept_reassignment is False
    e = await refused(make_ctx, lambda ctx: application.go_to_step(ctx, actor, app, "nowhere"))
    assert e.code == "app.step_missing"


async def test_cannot_jump_ahead(make_ctx: CtxFactory, world: World) -> None:
    actor = await trainee(make_ctx)
    app = await draft(make_ctx, world, actor, upto="supplement")
    e = await refused(make_ctx, lambda ctx: application.go_to_step(ctx, actor, app, "review"))
    assert (e.code, e.params) == ("app.step_missing", {"step": "review"})


async def test_submit_with_steps_missing_is_refused(make_ctx: CtxFactory, world: World) -> None:
    actor = await trainee(make_ctx)
    app = await draft(make_ctx, world, actor, upto="reassignment")
    e = await refused(make_ctx, lambda ctx: application.submit(ctx, actor, app))
    assert (e.code, e.params) == ("app.step_missing", {"step": "reassignment"})


async def test_submit_once_then_nothing_changes(make_ctx: CtxFactory, world: World) -> None:
    actor = await trainee(make_ctx)
    app = await draft(make_ctx, world, actor)
    done = await run(make_ctx, lambda ctx: application.submit(ctx, actor, app))
    assert done.status == S.SUBMITTED
    row = await reread(make_ctx, Application, app)
    assert (row.status, row.step, row.submitted_at) == (S.SUBMITTED, "done", done.submitted_at)
    assert row.submitted_at is not None
    audit = (await actions(make_ctx, "application", app))[-1]
    assert audit == "submit"
    edits = [
        lambda ctx: application.submit(ctx, actor, app),
        lambda ctx: application.choose_personnel_type(ctx, actor, app, P.SOCIAL),
        lambda ctx: application.confirm_info(ctx, actor, app),
        lambda ctx: application.save_supplement(ctx, actor, app, {"fresh_graduate": False}),
        lambda ctx: application.finish_supplement(ctx, actor, app),
        lambda ctx: application.choose_specialty(ctx, actor, app, world.pediatrics.id),
        lambda ctx: application.choose_base(ctx, actor, app, world.base_b.id),
        lambda ctx: application.choose_site(ctx, actor, app, world.site_a.id),
        lambda ctx: application.set_reassignment(ctx, actor, app, False),
        lambda ctx: application.go_to_step(ctx, actor, app, "batch"),
    ]
    for edit in edits:
        assert (await refused(make_ctx, edit)).code == "app.submitted_locked"
    after = await reread(make_ctx, Application, app)
    assert (after.status, after.specialty_id, after.accept_reassignment, after.supplement) == (
        S.SUBMITTED,
        world.internal.id,
        True,
        {"fresh_graduate": True, "has_qualification": False},
    )
    # Starting again returns the submitted application, not a new draft.
    again = await run(make_ctx, lambda ctx: application.start(ctx, actor, world.batch.id))
    assert again.id == app


async def test_submit_after_the_period_closed_is_refused(
    make_ctx: CtxFactory, world: World, clock: FrozenClock
) -> None:
    actor = await trainee(make_ctx)
    app = await draft(make_ctx, world, actor)
    clock.set(world.batch.apply_end + timedelta(seconds=1))
    e = await refused(make_ctx, lambda ctx: application.submit(ctx, actor, app))
    assert e.code == "app.batch_closed"
    assert (await reread(make_ctx, Application, app)).status == S.DRAFT


async def test_submit_refused_when_the_plan_was_withdrawn(
    make_ctx: CtxFactory, world: World
) -> None:
    actor = await trainee(make_ctx)
    app = await draft(make_ctx, world, actor)
    async with make_ctx() as ctx:
        plan = await catalog.plan_for(ctx, world.batch.id, world.base_a.id, world.internal.id)
        assert plan is not None
        plan.status = "declared"  # type: ignore[assignment]
    e = await refused(make_ctx, lambda ctx: application.submit(ctx, actor, app))
    assert e.code == "app.no_plan_at_base"


async def test_someone_elses_draft_is_not_found(make_ctx: CtxFactory, world: World) -> None:
    owner = await trainee(make_ctx)
    other = await trainee(make_ctx)
    app = await draft(make_ctx, world, owner)
    e = await refused(make_ctx, lambda ctx: application.submit(ctx, other, app))
    assert e.code == "not_found"
    async with make_ctx() as ctx:
        assert await application.my_application(ctx, other) is None
        mine = await application.my_application(ctx, owner)
        assert mine is not None and mine.id == app


async def test_one_application_per_batch_but_another_batch_is_separate(
    make_ctx: CtxFactory, world: World
) -> None:
    async with make_ctx() as ctx:
        actor = await make_trainee(ctx)
        second = await make_batch(ctx, name="2026年住培招收（第二批）")
        await make_plan(ctx, second, world.base_b, world.internal, 3)
        first = await submitted(ctx, world, actor)
        other = await submitted(ctx, world, actor, batch=second, base=world.base_b)
    assert first.id != other.id
    row = await reread(make_ctx, Application, other.id)
    assert (row.batch_id, row.base_id, row.site_id) == (second.id, world.base_b.id, world.site_b.id)


async def test_batch_list_shows_types_and_which_are_open(
    make_ctx: CtxFactory, world: World
) -> None:
    async with make_ctx() as ctx:
        closed = await make_batch(
            ctx, name="已结束", opens=timedelta(days=-30), closes=timedelta(days=-20)
        )
        typeless = await make_batch(ctx, name="无适用类型", types=())
        gp = await make_batch(
            ctx, name="助理全科", program=Program.ASSISTANT_GP, types=(P.SOCIAL, P.AID)
        )
        views = {v.batch.id: v for v in await catalog.batches(ctx, Program.RESIDENCY)}
        now = ctx.now()
    assert set(views) == {world.batch.id, closed.id, typeless.id}
    assert views[world.batch.id].types == tuple(P)
    assert views[world.batch.id].is_open(now)
    assert not views[closed.id].is_open(now)
    assert not views[typeless.id].is_open(now)
    async with make_ctx() as ctx:
        (gp_view,) = await catalog.batches(ctx, Program.ASSISTANT_GP)
    assert (gp_view.batch.id, gp_view.types) == (gp.id, (P.SOCIAL, P.AID))


async def test_sending_unit_is_the_current_work_unit(make_ctx: CtxFactory, world: World) -> None:
    employed = await trainee(make_ctx, has_work_unit=True)
    social = await trainee(make_ctx)
    async with make_ctx() as ctx:
        assert await application.current_work_unit(ctx, employed.account_id) == "广州市第一人民医院"
        assert await application.current_work_unit(ctx, social.account_id) is None
