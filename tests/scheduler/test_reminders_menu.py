"""/reminders: a user turns the non-critical kinds off and on; deadline reminders of their own
obligations are listed and cannot be turned off, whatever button says so."""

from __future__ import annotations

from sqlalchemy import select

from bot.emulator import ScriptedUser
from bot.emulator.state import CallbackRecord
from handlers.reminders import ReminderToggle
from storage.models import ReminderMute
from tests.conftest import CtxFactory
from tests.factories import World, make_trainee
from tests.harness import BotHarness
from workflow import accounts
from workflow import reminders as R


async def press_data(app: BotHarness, user: ScriptedUser, data: str) -> CallbackRecord:
    """A press on a button with this callback data on the user's last bot message (a stale or
    forged button: the data is whatever the client sends)."""
    message = user.last_bot_message()
    query_id = app.emulator.next_callback_id()
    record, _ = app.emulator.submit_update(
        {
            "callback_query": {
                "id": query_id,
                "from": user.api,
                "message": message.to_api(),
                "chat_instance": f"ci{user.chat_id}",
                "data": data,
            }
        }
    )
    await app.emulator.wait_processed(record.update_id)
    return app.emulator.state.callbacks[query_id]


async def mutes(app: BotHarness) -> list[tuple[int, str]]:
    async with app.ctx() as ctx:
        rows = await ctx.session.scalars(select(ReminderMute).order_by(ReminderMute.kind))
        return [(r.account_id, r.kind) for r in rows.all()]


async def test_a_trainee_turns_a_reminder_off_and_on(app: BotHarness, make_ctx: CtxFactory) -> None:
    user = app.user(611, language_code="zh-hans")
    await user.command("start")
    async with make_ctx() as ctx:
        trainee = await make_trainee(ctx, tg_user_id=611)
    await user.command("reminders")
    menu = user.last_bot_message()
    assert "提醒设置" in menu.text and "22:00–08:00" in menu.text
    assert menu.buttons == [
        ["✅ 报名截止前：个人信息尚未完善"],
        ["✅ 报到后：培训年限尚未设置"],
        ["🔔 发送测试提醒"],
        ["✖️ 取消"],
    ]
    assert "不能关闭" in menu.text
    assert "• 报名截止前：报名尚未提交" in menu.text
    assert "• 确认周期结束前：录取结果尚未接受" in menu.text

    answer = await user.press("✅ 报名截止前：个人信息尚未完善")
    assert answer.text == "已关闭：报名截止前：个人信息尚未完善"
    assert user.last_bot_message().buttons[0] == ["🔕 报名截止前：个人信息尚未完善"]
    assert await mutes(app) == [(trainee.account_id, R.APPLY_PROFILE)]

    # The same (now stale) press again: no harm, and it says why.
    stale = ReminderToggle(kind=R.APPLY_PROFILE, mute=True).pack()
    assert (await press_data(app, user, stale)).text == "该提醒已经是关闭状态。"
    assert await mutes(app) == [(trainee.account_id, R.APPLY_PROFILE)]

    answer = await user.press("🔕 报名截止前：个人信息尚未完善")
    assert answer.text == "已开启：报名截止前：个人信息尚未完善"
    assert await mutes(app) == []


async def test_a_critical_reminder_cannot_be_turned_off(
    app: BotHarness, make_ctx: CtxFactory
) -> None:
    user = app.user(612, language_code="en")
    await user.command("start")
    async with make_ctx() as ctx:
        await make_trainee(ctx, tg_user_id=612)
    await user.command("reminders")
    assert "cannot be turned off" in user.last_bot_message().text
    forged = ReminderToggle(kind=R.CONFIRM_CLOSING, mute=True).pack()
    answer = await press_data(app, user, forged)
    assert answer.show_alert
    assert answer.text == (
        "This deadline reminder concerns your own obligation and cannot be turned off."
    )
    other_role = ReminderToggle(kind=R.DIGEST_BASE, mute=True).pack()
    assert "does not apply" in (await press_data(app, user, other_role)).text
    assert await mutes(app) == []


async def test_a_test_reminder_arrives_once_a_minute(app: BotHarness, make_ctx: CtxFactory) -> None:
    user = app.user(613, language_code="zh-hans")
    await user.command("start")
    async with make_ctx() as ctx:
        await make_trainee(ctx, tg_user_id=613)
    await user.command("reminders")
    assert (await user.press("🔔 发送测试提醒")).text == "测试提醒已排队，稍后送达。"
    await user.press("🔔 发送测试提醒")
    mark = user.mark()
    assert await app.deliver() == 1
    assert [m.text for m in user.bot_messages_since(mark)] == [
        "🔔 这是一条测试提醒：提醒会发送到这里。"
    ]
    app.clock.advance(minutes=1)
    await user.press("🔔 发送测试提醒")
    assert await app.deliver() == 1


async def test_staff_and_guests(app: BotHarness, world: World, make_ctx: CtxFactory) -> None:
    guest = app.user(614, language_code="zh-hans")
    await guest.command("reminders")
    assert guest.last_bot_message().text == "请先登录或注册（/start），再设置提醒。"

    staff = app.user(615, language_code="zh-hans")
    await staff.command("start")
    async with make_ctx() as ctx:
        await accounts.bind_chat(ctx, world.staff_a.account_id, 615)
    await staff.command("reminders")
    menu = staff.last_bot_message()
    assert menu.buttons[:2] == [["✅ 录取结果锁定前 1 小时"], ["✅ 每日待办汇总"]]
    assert "不能关闭" not in menu.text
    await staff.press("✅ 每日待办汇总")
    assert await mutes(app) == [(world.staff_a.account_id, R.DIGEST_BASE)]
    await staff.press("✖️ 取消")
    assert staff.last_bot_message().text == "已取消。您已保存的信息不会丢失。"
