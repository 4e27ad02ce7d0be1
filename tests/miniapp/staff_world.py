"""The staff side of the Mini App's tests: the world of two bases (tests/factories.py), staff
bound to their chats by their invitation link, and trainees at each stage."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update

from storage.models import Application, AuditLog, Plan
from tests import factories
from tests.harness import BotHarness
from tests.staff.conftest import cn, enrol
from workflow import admission
from workflow.actor import Actor
from workflow.enums import Role

BASE_A, BASE_B, CITY_GZ, PROVINCE = 9201, 9202, 9203, 9205


@dataclass
class StaffWorld:
    world: factories.World
    a: Actor  # staff of base A (广州市红十字会医院), chat BASE_A
    b: Actor  # staff of base B (深圳市人民医院), chat BASE_B
    gz: Actor  # the 广州市 reviewer, chat CITY_GZ


async def staff_world(app: BotHarness) -> StaffWorld:
    app.services.settings.outbox_per_chat_interval_seconds = 0.01
    async with app.ctx() as ctx:
        world = await factories.build_world(ctx)
        await ctx.session.execute(
            update(Plan).where(Plan.specialty_id == world.internal.id).values(planned=30)
        )
    a = await enrol(app, BASE_A, Role.BASE, name="王主任", base_id=world.base_a.id)
    b = await enrol(app, BASE_B, Role.BASE, name="李科长", base_id=world.base_b.id)
    gz = await enrol(app, CITY_GZ, Role.CITY, name="广州审核员", city_id=world.gz.id)
    return StaffWorld(world, a.actor, b.actor, gz.actor)


async def applicants(app: BotHarness, sw: StaffWorld, n: int, prefix: str, **kw: Any) -> list[int]:
    """`n` trainees who submitted (to base A, 内科, unless told otherwise), in this order."""
    ids = []
    for i in range(n):
        async with app.ctx() as ctx:
            t = await factories.make_trainee(ctx, name=f"{prefix}{cn(i)}")
            ids.append((await factories.submitted(ctx, sw.world, t, **kw)).id)
    return ids


async def admitted(app: BotHarness, staff: Actor, ids: list[int]) -> None:
    async with app.ctx() as ctx:
        for app_id in ids:
            await admission.pre_admit(ctx, staff, app_id)
            await admission.admit(ctx, staff, app_id)


async def snapshot(app: BotHarness) -> tuple[list[tuple[int, str, object]], int]:
    """Every application's id, status and sent time, and the number of audit rows: what a
    refused request must leave as it was."""
    async with app.ctx() as ctx:
        rows = await ctx.session.execute(
            select(Application.id, Application.status, Application.sent_at).order_by(Application.id)
        )
        audits = await ctx.session.scalar(select(func.count(AuditLog.id)))
    return [tuple(r) for r in rows], int(audits or 0)  # type: ignore[misc]
