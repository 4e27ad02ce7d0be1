"""Item 1: invitation links bind staff chats; each role gets its own command menu; trainees and
guests never get staff commands, and a staff command or button from the wrong role is refused."""

from __future__ import annotations

from sqlalchemy import select

from bot.i18n import Translator
from bot.menus import ROLE_COMMANDS, STAFF_COMMANDS, commands_for
from handlers.staff.callbacks import AppCb, ListCb, PlanCb
from storage.models import Application, Invitation, TelegramUser
from tests.factories import build_world
from tests.harness import BotHarness
from tests.staff.conftest import Console, alert_of, applied, enrol, forge, invite, trainee
from workflow.enums import Role


async def test_invitation_binds_once_and_sets_the_role_menu(app: BotHarness) -> None:
    async with app.ctx() as ctx:
        world = await build_world(ctx)
    token = await invite(app, Role.BASE, name="王主任", base_id=world.base_a.id)
    user = app.user(7001, first_name="王")
    await user.command("start", token)
    assert "绑定成功：王主任（基地用户）" in user.last_bot_message().text
    names = [c.command for c in user.visible_commands()]
    assert names == list(ROLE_COMMANDS[Role.BASE])
    assert {"queue", "admission", "declare", "trainings"} <= set(names)
    assert "planreview" not in names and "handover" not in names
    async with app.ctx() as ctx:
        row = await ctx.session.get(TelegramUser, 7001)
        assert row is not None and row.account_id is not None
        inv = await ctx.session.scalar(select(Invitation).where(Invitation.used_by_tg == 7001))
        assert inv is not None and inv.used_at is not None

    # The link works once: someone else opening it later is refused.
    other = app.user(7002)
    await other.command("start", token)
    assert "该邀请链接已被使用过" in other.last_bot_message().text
    async with app.ctx() as ctx:
        row = await ctx.session.get(TelegramUser, 7002)
        assert row is None or row.account_id is None

    # An expired link is refused.
    late = await invite(app, Role.PROVINCE, name="省卫健委")
    app.clock.advance(hours=73)
    third = app.user(7003)
    await third.command("start", late)
    assert "已过期" in third.last_bot_message().text

    # /menu opens the base's work menu with the guide's rules.
    await user.command("menu")
    menu = user.last_bot_message()
    assert "所属基地：广州市红十字会医院" in menu.text
    assert "不是本单位线下已录取的学员要做“不录取”" in menu.text
    assert "未点击“发送录取结果”的学员，永远看不到“接受”按钮" in menu.text
    assert ["📋 学员志愿预审核", "🏥 学员录取管理"] in menu.buttons


async def test_each_role_has_its_menu_and_trainees_none_of_them(console: Console) -> None:
    zh = Translator("zh-CN")
    for staff, role in ((console.gz, Role.CITY), (console.prov, Role.PROVINCE)):
        assert [c.command for c in staff.user.visible_commands()] == list(ROLE_COMMANDS[role])
    assert {c.command for c in console.gz.user.visible_commands()} >= {"confirm", "reductions"}
    assert "handover" in {c.command for c in console.prov.user.visible_commands()}
    trainee_menu = {c.command for c in commands_for(Role.TRAINEE, zh)}
    guest_menu = {c.command for c in commands_for(None, zh)}
    assert not trainee_menu & STAFF_COMMANDS
    assert not guest_menu & STAFF_COMMANDS
    # City and province menus in English for an English-language staff member.
    await console.gz.user.command("language")
    await console.gz.user.press("English")
    described = {c.command: c.description for c in console.gz.user.visible_commands()}
    assert described["confirm"] == "Result confirmation"
    await console.gz.user.command("menu")
    assert "Work menu · city health commission" in console.gz.user.last_bot_message().text
    assert "City: 广州市" in console.gz.user.last_bot_message().text


async def test_staff_commands_and_buttons_are_refused_to_other_roles(console: Console) -> None:
    _t, app_id = await applied(console, "赵六")
    # A trainee (bound to a chat) types a staff command and presses a forged staff button.
    t = await trainee(console.app, name="钱七", tg=7100)
    assert t.role is Role.TRAINEE
    pupil = console.app.user(7100)
    await pupil.command("queue")
    assert "此功能不适用于您的账号角色" in pupil.last_bot_message().text
    await pupil.command("preadmit", str(app_id))
    assert "此功能不适用于您的账号角色" in pupil.last_bot_message().text
    await pupil.send("/start")
    pressed = await forge(pupil, AppCb(act="pre", id=app_id, kind="pre").pack())
    assert "此功能不适用于您的账号角色" in alert_of(pressed)
    # A guest, too.
    guest = console.app.user(7200)
    await guest.command("start")
    pressed = await forge(guest, ListCb(kind="pre", op="exp").pack())
    assert "此功能不适用于您的账号角色" in alert_of(pressed)
    # Staff of the wrong role: a base cannot review plans, a city cannot pre-admit.
    await console.a.user.command("planreview")
    assert "此功能不适用于您的账号角色" in console.a.user.last_bot_message().text
    await console.a.user.command("menu")
    pressed = await forge(console.a.user, PlanCb(op="ok", plan=1).pack())
    assert "此功能不适用于您的账号角色" in alert_of(pressed)
    await console.gz.user.command("preadmit", str(app_id))
    assert "此功能不适用于您的账号角色" in console.gz.user.last_bot_message().text
    async with console.app.ctx() as ctx:
        assert (await ctx.session.get(Application, app_id)).status == "submitted"  # type: ignore[union-attr]


async def test_a_second_base_member_is_bound_to_their_own_base(console: Console) -> None:
    w = console.world
    other = await enrol(console.app, 7300, Role.BASE, name="新同事", base_id=w.base_b.id)
    assert other.actor.base_id == w.base_b.id and other.actor.city_id is None
    await other.user.command("menu")
    assert "深圳市人民医院" in other.user.last_bot_message().text


APOLOGY = "抱歉，处理时出现了问题"


async def test_every_menu_section_opens_for_its_role(console: Console) -> None:
    await applied(console, "菜单甲")
    await applied(console, "菜单乙", base=console.world.base_b)
    for staff in (console.a, console.gz, console.prov):
        user = staff.user
        await user.command("menu")
        buttons = [b for row in user.last_bot_message().inline_keyboard for b in row]
        # The workbench's web_app button opens a page, not a section of the chat.
        sections = [b["text"] for b in buttons if "callback_data" in b and b["text"] != "✖️ 取消"]
        assert sections
        for label in sections:
            await user.command("menu")
            mark = user.mark()
            await user.press(label)
            shown = [m.text or "" for m in user.bot_messages()]
            assert not any(APOLOGY in text for text in shown), (label, shown[-1])
            assert user.bot_messages_since(mark) or user.last_bot_message().edited, label
    # The list filters' pickers work from any list.
    a = console.a.user
    await a.command("queue")
    await a.press("📅 批次")
    await a.press(console.world.batch.name)
    assert "共 1 条" in a.last_bot_message().text
    await a.press("📅 批次")
    await a.press("全部批次")
    await a.press("🩺 专业")
    await a.press("全部专业")
    assert "筛选：批次 全部 · 专业 全部" in a.last_bot_message().text
    # A cancelled question is forgotten: the next text is not taken as its answer.
    await a.press("🔎 姓名/证件尾号")
    await a.command("cancel")
    await a.send("菜单甲")
    assert "无法识别的消息" in a.last_bot_message().text
