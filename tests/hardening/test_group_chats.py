"""Private chats only: in a group, supergroup or channel the bot says in one line to open a
private chat (with a deep link) and does nothing else; menus are for private chats."""

from __future__ import annotations

from sqlalchemy import func, select

from storage.models import FsmRecord, TelegramUser
from tests import factories
from tests.factories import make_id
from tests.hardening.snapshot import changed, snapshot
from tests.harness import BotHarness

NOTICE = "请在私聊中使用本机器人"
LINK = "https://t.me/{}?start=private"


async def _username(app: BotHarness) -> str:
    assert app.bot is not None
    me = await app.bot.me()
    assert me.username
    return me.username


async def test_group_commands_get_one_line_and_change_nothing(app: BotHarness) -> None:
    member = app.user(7001).in_group(-1009001)
    before = await snapshot(app.db)
    for text in ("/start", "/register", "/login", "/profile", "/menu"):
        sent = await member.send(text)
        replies = member.bot_messages_since(sent.seq)
        assert len(replies) == 1, (text, replies)
        reply = replies[0]
        assert NOTICE in reply.text and "\n" not in reply.text
        assert reply.reply_markup is None  # no registration button in front of the group
        assert LINK.format(await _username(app)) in (reply.html or "")
    # Typed personal data answered to the bot's line: told again, never read.
    notice = member.last_bot_message()
    sent = await member.send(make_id(), reply_to=notice)
    assert [m.text for m in member.bot_messages_since(sent.seq)] == [notice.text]
    # Chatter not addressed to the bot is left alone.
    sent = await member.send("大家好")
    assert member.bot_messages_since(sent.seq) == []
    assert changed(before, await snapshot(app.db)) == {}
    async with app.ctx() as ctx:
        assert await ctx.session.get(TelegramUser, 7001) is None
        assert await ctx.session.scalar(select(func.count()).select_from(FsmRecord)) == 0
    # Nothing was said in the user's private chat either.
    assert app.user(7001).bot_messages() == []


async def test_a_press_in_a_group_opens_the_private_chat(app: BotHarness) -> None:
    # A welcome's registration button forwarded into a group and pressed there.
    user = app.user(7002)
    await user.command("start")
    member = user.in_group(-1009002, kind="group")
    await member.send("/help")
    group_message = member.last_bot_message()
    group_message.reply_markup = {
        "inline_keyboard": [[{"text": "📝 学员注册", "callback_data": "start:register"}]]
    }
    before = await snapshot(app.db)
    press = await member.press("📝 学员注册", message=group_message)
    name = await _username(app)
    assert press.answer is not None
    assert press.answer.get("url") == LINK.format(name)
    assert f"@{name}" in (press.text or "")
    assert changed(before, await snapshot(app.db)) == {}
    async with app.ctx() as ctx:
        assert await ctx.session.scalar(select(func.count()).select_from(FsmRecord)) == 0


async def test_a_command_in_a_channel_is_answered_once_and_posts_ignored(app: BotHarness) -> None:
    channel = app.user(7003).in_group(-1009003, kind="channel", title="通知频道")
    before = await snapshot(app.db)
    post = await channel.channel_post("今天的通知")
    assert channel.bot_messages_since(post.seq) == []
    post = await channel.channel_post("/start")
    assert [NOTICE in m.text for m in channel.bot_messages_since(post.seq)] == [True]
    assert changed(before, await snapshot(app.db)) == {}


async def test_the_deep_link_greets_in_private(app: BotHarness) -> None:
    user = app.user(7004)
    await user.command("start", "private")
    welcome = user.last_bot_message()
    assert "欢迎" in welcome.text
    assert [row[0] for row in welcome.buttons] == ["📝 学员注册", "🔑 登录已有账号"]


async def test_menus_are_for_private_chats(app: BotHarness) -> None:
    from bot.menus import set_default_menus

    assert app.bot is not None
    await set_default_menus(app.bot)
    private = app.user(7005)
    await private.command("start")
    assert "register" in {c.command for c in private.visible_commands()}
    member = private.in_group(-1009005)
    await member.send("/start")
    assert member.visible_commands() == []


async def test_staff_in_a_group_get_the_same_line_active_or_disabled(app: BotHarness) -> None:
    from tests.staff.conftest import enrol
    from workflow import staff_accounts
    from workflow.enums import Role

    async with app.ctx() as ctx:
        world = await factories.build_world(ctx)
    staff = await enrol(app, 7006, Role.BASE, name="王主任", base_id=world.base_a.id)
    member = staff.user.in_group(-1009006)
    for disabled in (False, True):
        if disabled:
            async with app.ctx() as ctx:
                await staff_accounts.set_active(ctx, None, staff.actor.account_id, False)
        calls = len(app.emulator.calls)
        before = await snapshot(app.db)
        sent = await member.send("/queue")
        replies = member.bot_messages_since(sent.seq)
        assert len(replies) == 1 and NOTICE in replies[0].text
        assert "停用" not in replies[0].text  # nothing about the account in front of the group
        assert [c.method for c in app.emulator.calls[calls:] if "Commands" in c.method] == []
        assert changed(before, await snapshot(app.db)) == {}
