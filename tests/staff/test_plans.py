"""Item 2: 招生计划申报 by a base before the batch opens, the province's approval or adjustment
with a reason, 招生计划查看 and 批次时间查询 for every staff role; a plan declared after the
batch opened is refused."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from storage.models import Batch, Plan
from tests import factories
from tests.staff.conftest import Console, deliver_staff


async def future_batch(console: Console) -> Batch:
    async with console.app.ctx() as ctx:
        return await factories.make_batch(
            ctx,
            name="2027年住培招收（第一批）",
            cohort_year=2027,
            opens=timedelta(days=10),
            closes=timedelta(days=40),
            confirm_from=timedelta(days=41),
            confirm_until=timedelta(days=60),
        )


async def plan_of(console: Console, batch_id: int, base_id: int, spec_id: int) -> Plan | None:
    async with console.app.ctx() as ctx:
        return await ctx.session.scalar(
            select(Plan).where(
                Plan.batch_id == batch_id, Plan.base_id == base_id, Plan.specialty_id == spec_id
            )
        )


async def test_declare_review_and_view_plans(console: Console) -> None:
    w = console.world
    batch = await future_batch(console)
    a = console.a.user

    # Declaring by buttons: only batches that have not opened are offered.
    await a.command("declare")
    picker = a.last_bot_message()
    assert picker.button("2027年住培招收（第一批）") is not None
    assert picker.button(w.batch.name) is None
    await a.press("2027年住培招收（第一批）")
    await a.press("0100 内科")
    assert "请输入申报的计划数" in a.last_bot_message().text
    await a.send("很多")
    assert "计划数必须是 0 到 999 之间的整数" in a.last_bot_message().text
    await a.send("5")
    assert "已申报：2027年住培招收（第一批） · 内科 · 5 人" in a.last_bot_message().text
    plan = await plan_of(console, batch.id, w.base_a.id, w.internal.id)  # type: ignore[arg-type]
    assert plan is not None and plan.declared == 5 and plan.status == "declared"
    assert plan.planned == 0 and plan.declared_by == console.a.actor.account_id

    # By typed command, with the specialty code.
    await a.command("declare", f"{batch.id} 0200 3")
    assert "儿科 · 3 人" in a.last_bot_message().text
    await console.b.user.command("declare", f"{batch.id} 0100 4")
    assert "内科 · 4 人" in console.b.user.last_bot_message().text

    # A plan declared after the batch opened is refused.
    await a.command("declare", f"{w.batch.id} 0100 9")
    assert "开始报名，招生计划不能再申报或调整" in a.last_bot_message().text
    open_plan = await plan_of(console, w.batch.id, w.base_a.id, w.internal.id)  # type: ignore[arg-type]
    assert open_plan is not None and open_plan.declared is None and open_plan.planned == 30

    # The province approves one and adjusts another (the reason is required).
    p = console.prov.user
    await p.command("planreview")
    review = p.last_bot_message()
    assert "招生计划审核" in review.text and "共 3 条" in review.text
    await p.press(f"✅ #{plan.id} 批准 5")
    assert f"计划 #{plan.id} 已审核，核定 5 人" in p.last_bot_message().text
    plan = await plan_of(console, batch.id, w.base_a.id, w.internal.id)  # type: ignore[arg-type]
    assert plan is not None and plan.planned == 5 and plan.status == "approved"
    peds = await plan_of(console, batch.id, w.base_a.id, w.pediatrics.id)  # type: ignore[arg-type]
    assert peds is not None
    await p.press(f"✏️ #{peds.id} 调整")
    await p.send("2")
    assert "请填写原因" in p.last_bot_message().text
    await p.send("2 床位不足")
    peds = await plan_of(console, batch.id, w.base_a.id, w.pediatrics.id)  # type: ignore[arg-type]
    assert peds is not None and peds.planned == 2 and peds.status == "adjusted"
    assert peds.reason == "床位不足"

    # The base is told, in its language.
    assert await deliver_staff(console.app) >= 2
    told = [m.text for m in a.bot_messages() if "招生计划已审核" in (m.text or "")]
    assert any("儿科：申报 3，核定 2（已调整）。原因：床位不足" in t for t in told)

    # 招生计划查看: each role sees its scope.
    await a.command("plans", str(batch.id))
    mine = a.last_bot_message().text
    assert "广州市红十字会医院 · 内科：核定 5" in mine and "深圳市人民医院" not in mine
    await console.gz.user.command("plans")
    await console.gz.user.press("2027年住培招收（第一批）")
    city = console.gz.user.last_bot_message().text
    assert "广州市红十字会医院" in city and "深圳市人民医院" not in city
    await p.command("plans", str(batch.id))
    everyone = p.last_bot_message().text
    assert (
        "广州市红十字会医院" in everyone
        and "深圳市人民医院 · 内科：核定 0（申报 4 · 待审核）" in everyone
    )

    # Once the batch opened, the province cannot decide the rest either.
    console.app.clock.advance(days=11)
    b_plan = await plan_of(console, batch.id, w.base_b.id, w.internal.id)  # type: ignore[arg-type]
    await p.command("approveplan", str(b_plan.id))  # type: ignore[union-attr]
    assert "开始报名，招生计划不能再申报或调整" in p.last_bot_message().text


async def test_batch_timetable_for_every_staff_role(console: Console) -> None:
    await future_batch(console)
    for staff in (console.a, console.gz, console.prov):
        await staff.user.command("batches")
        text = staff.user.last_bot_message().text
        assert "批次时间查询" in text
        assert "2027年住培招收（第一批）（住院医师规范化培训 · 2027 届 · 未开始）" in text
        assert "2026年住培招收（第一批）（住院医师规范化培训 · 2026 届 · 报名中）" in text
        assert "报名周期：2026-06-30 10:00 至 2026-07-11 10:00" in text
        assert "录取结果锁定期：12 小时" in text
