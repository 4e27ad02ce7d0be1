"""The queries behind the staff tables: sorted on the server by a whitelisted key in either
direction, paged, counted, and unaffected by a key the list does not offer."""

from __future__ import annotations

from sqlalchemy import update

from storage.models import Plan
from tests import factories
from tests.conftest import CtxFactory
from workflow import admission, queues
from workflow.queues import AppFilter, TrainingFilter, View

NAMES = ("丙", "甲", "丁", "乙", "戊")


async def test_applications_sort_page_and_count_on_the_server(make_ctx: CtxFactory) -> None:
    async with make_ctx() as ctx:
        world = await factories.build_world(ctx)
        await ctx.session.execute(
            update(Plan).where(Plan.specialty_id == world.internal.id).values(planned=10)
        )
    ids = []
    for name in NAMES:
        async with make_ctx() as ctx:
            t = await factories.make_trainee(ctx, name=f"学员{name}")
            ids.append((await factories.submitted(ctx, world, t)).id)
    staff = world.staff_a
    async with make_ctx() as ctx:
        by_name = await queues.applications(ctx, staff, View.PRE, AppFilter(order="name"), 0, 3)
        desc = await queues.applications(ctx, staff, View.PRE, AppFilter(order="-name"), 1, 3)
        unknown = await queues.applications(ctx, staff, View.PRE, AppFilter(order="x; drop"))
        by_id_desc = await queues.all_applications(ctx, staff, View.PRE, AppFilter(order="-id"))
    ordered = sorted(f"学员{n}" for n in NAMES)
    assert [r.name for r in by_name.rows] == ordered[:3]
    assert (by_name.total, by_name.pages) == (5, 2)
    assert [r.name for r in desc.rows] == ordered[::-1][3:]
    assert [r.id for r in unknown.rows] == ids  # the list's own order: by submission
    assert [r.id for r in by_id_desc] == ids[::-1]


async def test_actions_offered_follow_the_state(make_ctx: CtxFactory) -> None:
    async with make_ctx() as ctx:
        world = await factories.build_world(ctx)
        t = await factories.make_trainee(ctx, name="学员甲")
        app = await factories.submitted(ctx, world, t)
    staff, now = world.staff_a, None
    async with make_ctx() as ctx:
        now = ctx.now()
        row = await queues.application(ctx, staff, app.id, View.PRE)
        assert queues.actions_for(row, View.PRE, now) == ["pre", "rej"]
        assert queues.actions_for(row, View.ADM, now) == []
        await admission.pre_admit(ctx, staff, app.id)
        await admission.admit(ctx, staff, app.id)
        row = await queues.application(ctx, staff, app.id, View.ADM)
        assert queues.actions_for(row, View.ADM, now) == ["snd"]
        assert await queues.select_for_send(ctx, staff, [], app.id, 20) == [app.id]


def test_the_years_filter_reads_the_chats_stored_value() -> None:
    assert TrainingFilter.of({"x": "2"}).years == 2
    assert TrainingFilter.of({"x": None}).years is None
    assert TrainingFilter.of({"x": "-1"}).years is None
