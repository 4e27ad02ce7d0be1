"""/start for a returning user leads on: a trainee sees the one next step with its deadline and
the button to it; staff see the work menu with the count of what waits in each section."""

from __future__ import annotations

from tests import factories
from tests.staff.conftest import Console, applied, trainee
from workflow import admission


async def test_trainee_start_shows_the_next_step_and_leads_there(console: Console) -> None:
    app, w = console.app, console.world
    await trainee(app, name="新人甲", tg=7601, complete=False)
    user = app.user(7601)
    await user.command("start")
    start = user.last_bot_message()
    assert "您好，新人甲！" in start.text
    assert "下一步：完善个人信息" in start.text
    assert ["📋 报名状态", "📅 加入日历"] in start.buttons
    await user.press("➡️ 去完善个人信息")
    assert "民族" in user.last_bot_message().text

    # complete profile, an open batch, no application yet: apply, with the deadline
    await trainee(app, name="报名乙", tg=7602)
    user = app.user(7602)
    await user.command("start")
    start = user.last_bot_message()
    assert f"下一步：报名 {w.batch.name}" in start.text and "还剩" in start.text
    await user.press("📝 去报名")
    assert "第 1/6 步" in user.last_bot_message().text

    # a result that can be answered now: the answer buttons themselves
    t = await trainee(app, name="录取丙", tg=7603)
    user = app.user(7603)
    async with app.ctx() as ctx:
        sent = await factories.sent(ctx, w, t)
    await user.command("start")
    assert "录取结果已发送" in user.last_bot_message().text  # still in the lock period
    app.clock.advance(hours=13)
    await user.command("start")
    start = user.last_bot_message()
    assert "下一步：确认录取结果" in start.text
    await user.press("✅ 接受录取结果")
    async with app.ctx() as ctx:
        from storage.models import Application

        row = await ctx.session.get(Application, sent.id)
        assert row is not None and row.status == "accepted"
    await user.command("start")
    assert "正在办理中" in user.last_bot_message().text


async def test_staff_start_shows_the_work_menu_with_counts_of_what_waits(
    console: Console,
) -> None:
    a = console.a.user
    await a.command("start")
    menu = a.last_bot_message()
    assert "您好，王主任！" in menu.text and "目前没有待您处理的事项" in menu.text
    assert ["📋 学员志愿预审核", "🏥 学员录取管理"] in menu.buttons

    await applied(console, "预审甲")
    await applied(console, "预审乙")
    _, third = await applied(console, "录取丙")
    async with console.app.ctx() as ctx:
        await admission.pre_admit(ctx, console.a.actor, third)
    await a.command("start")
    menu = a.last_bot_message()
    assert "待您处理：共 3 项" in menu.text
    assert ["📋 学员志愿预审核（2）", "🏥 学员录取管理（1）"] in menu.buttons
    await a.press("📋 学员志愿预审核（2）")
    assert "预审甲" in a.last_bot_message().text

    # the city: the accepted results it confirms
    gz = console.gz.user
    await gz.command("start")
    assert "目前没有待您处理的事项" in gz.last_bot_message().text
