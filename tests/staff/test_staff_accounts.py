"""Disabling staff: the province's /team screen and typed commands, the refusal a disabled staff
member meets at the next update (button or command), their menu removed, and the audit."""

from __future__ import annotations

from sqlalchemy import select

from bot.menus import ROLE_COMMANDS, STAFF_COMMANDS
from handlers.staff.callbacks import ListCb
from handlers.staff.team import TeamCb
from storage.models import Account, AuditLog
from tests.staff.conftest import Console, alert_of, audit_actions, forge, press_data
from workflow.enums import Role

DISABLED = "您的工作人员账号已被停用"


async def is_active(console: Console, account_id: int) -> bool:
    async with console.app.ctx() as ctx:
        account = await ctx.session.get(Account, account_id)
        assert account is not None
        return account.is_active


def chat_scope_calls(console: Console, method: str, chat_id: int) -> int:
    return sum(
        1
        for call in console.app.emulator.calls
        if call.method == method
        and (call.params.get("scope") or {}).get("type") == "chat"
        and (call.params.get("scope") or {}).get("chat_id") == chat_id
    )


async def test_a_staff_member_disabled_by_the_province_is_refused_at_the_next_update(
    console: Console,
) -> None:
    a, prov = console.a, console.prov
    a_id = a.actor.account_id
    # Base A had a list open before being disabled.
    await a.user.command("queue")
    assert [c.command for c in a.user.visible_commands()] == list(ROLE_COMMANDS[Role.BASE])

    await prov.user.command("team")
    assert "工作人员账号（共 10 个）" in prov.user.last_bot_message().text
    await prov.user.press("下一页 ▶️")  # province and cities first, then the bases
    screen = prov.user.last_bot_message()
    assert f"#{a_id} 基地用户 · 王主任 · 广州市红十字会医院" in screen.text
    assert "已绑定" in screen.text
    # No button for province accounts: those are the operator's.
    labels = [b for row in screen.buttons for b in row]
    assert f"⛔ 停用 #{a_id} 王主任" in labels
    assert not any("省卫健委" in label for label in labels if "停用" in label)

    await prov.user.press(f"⛔ 停用 #{a_id} 王主任")
    assert f"已停用 #{a_id} 王主任" in prov.user.last_bot_message().text
    assert "⛔ 已停用" in prov.user.last_bot_message().text
    assert not await is_active(console, a_id)
    # Their chat's own menu is removed (Telegram shows the default guest menu instead).
    assert chat_scope_calls(console, "deleteMyCommands", a.user.chat_id) >= 1
    assert not {c.command for c in a.user.visible_commands()} & STAFF_COMMANDS

    # Their next button press (on the list they had open) and typed command are refused.
    pressed = await press_data(a.user, ListCb(kind="pre", op="exp").pack())
    assert DISABLED in alert_of(pressed)
    assert not [m for m in a.user.bot_messages() if m.document is not None]  # no export
    await a.user.command("queue")
    assert DISABLED in a.user.last_bot_message().text
    await a.user.command("start")
    assert DISABLED in a.user.last_bot_message().text
    await a.user.send("随便说点什么")
    assert DISABLED in a.user.last_bot_message().text
    assert not {c.command for c in a.user.visible_commands()} & STAFF_COMMANDS

    async with console.app.ctx() as ctx:
        refusals = list(
            await ctx.session.execute(
                select(AuditLog.actor_id, AuditLog.detail).where(
                    AuditLog.entity == "account",
                    AuditLog.entity_id == a_id,
                    AuditLog.action == "refused_disabled",
                )
            )
        )
    assert [detail["update"] for _who, detail in refusals] == [
        "button",
        "command",
        "command",
        "message",
    ]
    assert {who for who, _ in refusals} == {a_id}
    actions = await audit_actions(console.app, "account", a_id)
    assert ("disabled", prov.actor.account_id) in actions

    # Enabled again by the typed command: the menu is back and the console works.
    await prov.user.command("enable", str(a_id))
    assert f"已启用 #{a_id} 王主任" in prov.user.last_bot_message().text
    assert await is_active(console, a_id)
    assert [c.command for c in a.user.visible_commands()] == list(ROLE_COMMANDS[Role.BASE])
    await a.user.command("menu")
    assert "所属基地：广州市红十字会医院" in a.user.last_bot_message().text
    assert ("enabled", prov.actor.account_id) in await audit_actions(console.app, "account", a_id)


async def test_typed_disable_and_its_refusals(console: Console) -> None:
    prov, gz = console.prov, console.gz
    gz_id = gz.actor.account_id
    await prov.user.command("disable", str(gz_id))
    assert f"已停用 #{gz_id} 广州审核员" in prov.user.last_bot_message().text
    await gz.user.command("confirm")
    assert DISABLED in gz.user.last_bot_message().text

    await prov.user.command("disable", str(gz_id))
    assert "已经是停用状态" in prov.user.last_bot_message().text
    await prov.user.command("disable", str(prov.actor.account_id))
    assert "只能由系统管理员在命令行" in prov.user.last_bot_message().text
    assert await is_active(console, prov.actor.account_id)
    await prov.user.command("disable")
    assert "/disable 账号ID" in prov.user.last_bot_message().text
    await prov.user.command("disable", "99999")
    assert "找不到" in prov.user.last_bot_message().text

    # Only the province: base and city staff are refused, typed or by a forged button.
    b_id = console.b.actor.account_id
    await console.sz.user.command("disable", str(b_id))
    assert "此功能不适用于您的账号角色" in console.sz.user.last_bot_message().text
    await console.b.user.command("team")
    assert "此功能不适用于您的账号角色" in console.b.user.last_bot_message().text
    pressed = await forge(console.b.user, TeamCb(op="off", id=console.a.actor.account_id).pack())
    assert "此功能不适用于您的账号角色" in alert_of(pressed)
    assert await is_active(console, console.a.actor.account_id)
    assert await is_active(console, b_id)


async def test_the_team_screen_is_in_the_province_menu(console: Console) -> None:
    prov = console.prov
    assert "team" in [c.command for c in prov.user.visible_commands()]
    await prov.user.command("menu")
    await prov.user.press("👥 工作人员账号")
    assert "工作人员账号" in prov.user.last_bot_message().text
    assert "#" in prov.user.last_bot_message().text
