"""The workflow modules behind the consoles, without the chat: scoped, filtered lists in a fixed
number of queries whatever their length; grouped counts; the import's all-or-nothing check; the
multi-select limit."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import pytest
from sqlalchemy import event, select, update

from storage.db import Database
from storage.models import Application, Plan, Training
from tests import factories
from tests.conftest import CtxFactory
from workflow import admission, queues, results, stats, training, years_import
from workflow.actor import Actor
from workflow.enums import Role
from workflow.errors import DomainError
from workflow.queues import AppFilter, View
from workflow.years_import import YearsRow


@contextmanager
def counted(db: Database) -> Iterator[list[str]]:
    statements: list[str] = []

    def on_execute(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "BEGIN")):
            statements.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", on_execute)
    try:
        yield statements
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", on_execute)


NAMES = "甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳午未申酉"


async def populate(make_ctx: CtxFactory, n: int) -> tuple[factories.World, list[int]]:
    async with make_ctx() as ctx:
        world = await factories.build_world(ctx)
        await ctx.session.execute(
            update(Plan).where(Plan.specialty_id == world.internal.id).values(planned=50)
        )
    ids = []
    for i in range(n):
        async with make_ctx() as ctx:
            t = await factories.make_trainee(ctx, name=f"学员{NAMES[i % 20]}{NAMES[i // 20]}")
            ids.append((await factories.submitted(ctx, world, t)).id)
    return world, ids


async def test_list_pages_take_the_same_queries_whatever_their_size(
    make_ctx: CtxFactory, db: Database
) -> None:
    world, ids = await populate(make_ctx, 24)
    async with make_ctx() as ctx:
        for app_id in ids[:12]:
            await admission.pre_admit(ctx, world.staff_a, app_id)
        for app_id in ids[:10]:
            await admission.admit(ctx, world.staff_a, app_id)
    async with make_ctx() as ctx:
        with counted(db) as small:
            page = await queues.applications(ctx, world.staff_a, View.PRE, AppFilter(), 0, 2)
        with counted(db) as large:
            page = await queues.applications(ctx, world.staff_a, View.PRE, AppFilter(), 0, 20)
        assert len(page.rows) == 14 and page.total == 14  # submitted + pre-admitted
        assert len(small) == len(large) == 2  # the count and the page
        with counted(db) as export:
            rows = await queues.all_applications(ctx, world.staff_a, View.ADM, AppFilter())
        assert len(rows) == 12 and len(export) == 1
        # Filters: the extra filter and the text.
        sent = await queues.applications(
            ctx, world.staff_a, View.ADM, AppFilter(extra="admitted"), 0, 50
        )
        assert sent.total == 10
        tail = rows[0].id_tail
        found = await queues.applications(ctx, world.staff_a, View.ADM, AppFilter(text=tail), 0)
        assert rows[0].id in [r.id for r in found.rows]
        # Another base's staff see none of them; a city reviewer has no such list.
        other = await queues.applications(ctx, world.staff_b, View.ADM, AppFilter(), 0)
        assert other.total == 0
        with pytest.raises(DomainError):
            await queues.applications(ctx, world.city_gz, View.PRE, AppFilter(), 0)


async def test_stats_are_grouped_counts_in_one_statement(
    make_ctx: CtxFactory, db: Database
) -> None:
    world, ids = await populate(make_ctx, 5)
    async with make_ctx() as ctx:
        for app_id in ids[:3]:
            await admission.pre_admit(ctx, world.staff_a, app_id)
        await admission.admit(ctx, world.staff_a, ids[0])
        await admission.send_results(ctx, world.staff_a, [ids[0]])
        await admission.reject(ctx, world.staff_a, ids[4], "非本院")
    async with make_ctx() as ctx:
        with counted(db) as q:
            rows = await stats.per_specialty(ctx, world.staff_a, world.batch.id)  # type: ignore[arg-type]
        assert len(q) == 1
        assert [(r.specialty, r.values()) for r in rows] == [
            ("内科", (50, 5, 3, 1, 1, 0, 0)),
            ("儿科", (1, 0, 0, 0, 0, 0, 0)),
        ]
        assert stats.totals(rows) == (51, 5, 3, 1, 1, 0, 0)
        b_rows = await stats.per_specialty(ctx, world.staff_b, world.batch.id)  # type: ignore[arg-type]
        assert [(r.specialty, r.planned, r.applicants) for r in b_rows] == [("内科", 50, 0)]


def test_selection_toggles_and_stops_at_the_limit() -> None:
    chosen = queues.toggle_selection([], 1, 2)
    chosen = queues.toggle_selection(chosen, 2, 2)
    assert chosen == [1, 2]
    with pytest.raises(DomainError) as e:
        queues.toggle_selection(chosen, 3, 2)
    assert e.value.code == "staff.select_max"
    assert queues.toggle_selection(chosen, 1, 2) == [2]


async def test_years_import_reports_every_bad_row_and_applies_nothing(
    make_ctx: CtxFactory,
) -> None:
    world, ids = await populate(make_ctx, 3)
    tids = []
    for app_id in ids:
        async with make_ctx() as ctx:
            await admission.pre_admit(ctx, world.staff_a, app_id)
            await admission.admit(ctx, world.staff_a, app_id)
            await admission.send_results(ctx, world.staff_a, [app_id])
    async with make_ctx() as ctx:
        ctx.clock.advance(hours=13)  # type: ignore[attr-defined]
        for app_id in ids:
            app = await ctx.session.get(Application, app_id)
            trainee = Actor(app.account_id, Role.TRAINEE)  # type: ignore[union-attr]
            await results.accept(ctx, trainee, app_id)
            await admission.confirm_result(ctx, world.city_gz, app_id)
            await admission.check_in(ctx, world.staff_a, app_id, True)
            tids.append(
                await ctx.session.scalar(
                    select(Training.id).where(Training.application_id == app_id)
                )
            )
    rows = [
        YearsRow(2, tids[0], 3, date(2026, 9, 1), None),
        YearsRow(3, tids[1], "3年", "2026-09-01", ""),
        YearsRow(4, "x", 3, "2026-09-01", None),
        YearsRow(5, tids[2], 3, "2026-13-01", None),
        YearsRow(6, tids[0], 2, "2026-09-01", None),
        YearsRow(7, None, None, None, None),
    ]
    with pytest.raises(years_import.ImportRejected) as e:
        async with make_ctx() as ctx:
            await years_import.apply(ctx, world.staff_a, rows)
    assert [(err.row, err.code) for err in e.value.errors] == [
        (4, "yimport.training_id"),
        (5, "field.date_format"),
        (6, "yimport.duplicate"),
    ]
    async with make_ctx() as ctx:
        stored = (await ctx.session.scalars(select(Training.duration_years))).all()
        assert set(stored) == {None}
    # Base B may not set base A's trainees: the row says why.
    with pytest.raises(years_import.ImportRejected) as e:
        async with make_ctx() as ctx:
            await years_import.apply(ctx, world.staff_b, rows[:1])
    assert [(err.row, err.code) for err in e.value.errors] == [(2, "forbidden.other_base")]
    async with make_ctx() as ctx:
        result = await years_import.apply(ctx, world.staff_a, rows[:2])
    assert (result.changed, result.unchanged) == (2, 0)
    async with make_ctx() as ctx:
        result = await years_import.apply(ctx, world.staff_a, rows[:2])
        got = await ctx.session.get(Training, tids[1])
    assert (result.changed, result.unchanged) == (0, 2)
    assert got is not None and (got.duration_years, got.end_date) == (3, date(2029, 8, 31))
    assert training.derived_end(date(2026, 9, 1), 3) == date(2029, 8, 31)
