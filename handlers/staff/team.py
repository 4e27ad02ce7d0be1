"""/team: the province's list of staff accounts, with 停用/启用 buttons and `/disable ID`,
`/enable ID`; both paths call `workflow.staff_accounts.set_active`."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.callback_data import Id, Page, one_of
from bot.disabled import update_chat_menu
from bot.keyboards import page_of, pager_row
from handlers.staff.common import Env, Event, int_arg, menu_back, reply, staff_router
from workflow import staff_accounts
from workflow.enums import Role

PAGE = 8


class TeamCb(CallbackData, prefix="stt"):
    """op: page (page), off / on (account id, the page to show again)."""

    op: one_of("page", "off", "on")
    id: Id = 0
    page: Page = 0


async def show_team(env: Env, event: Event, page: int = 0, *, notice: str | None = None) -> None:
    rows = await staff_accounts.list_staff(env.ctx, env.actor)
    shown, page, pages = page_of(rows, page, PAGE)
    out = [notice, ""] if notice else []
    out.append(env.t("team.title", total=len(rows)))
    kb = InlineKeyboardBuilder()
    for row in shown:
        out.append(
            env.t(
                "team.line",
                id=row.id,
                role=env.i18n.label("role", row.role),
                name=row.name,
                scope=row.scope or env.t("team.whole_province"),
                active=env.t("team.active" if row.active else "team.disabled"),
                bound=env.t("team.bound" if row.bound else "team.unbound"),
            )
        )
        if row.role is not Role.PROVINCE:
            op, label = ("off", "team.disable") if row.active else ("on", "team.enable")
            kb.button(
                text=env.t(label, id=row.id, name=row.name),
                callback_data=TeamCb(op=op, id=row.id, page=page),
            )
    kb.adjust(2)
    kb.row(*pager_row(env.i18n, page, pages, lambda p: TeamCb(op="page", page=p)))
    kb.row(*menu_back(env.i18n))
    out.append(env.t("team.usage"))
    await reply(event, "\n".join(out), kb.as_markup())


async def toggle(env: Env, event: Event, account_id: int, active: bool, page: int = 0) -> None:
    account = await staff_accounts.set_active(env.ctx, env.actor, account_id, active)
    tg = await staff_accounts.bound_chat(env.ctx, account_id)
    await env.ctx.session.commit()
    if tg is not None:
        await update_chat_menu(env.bot, tg, Role(account.role), active, env.i18n)
    done = "team.enabled_done" if active else "team.disabled_done"
    await show_team(env, event, page, notice=env.t(done, id=account_id, name=account.display_name))


def build_router() -> Router:
    router = staff_router(name="staff-team")

    @router.message(Command("team"))
    async def team_cmd(
        message: Message,
        env: Env,
    ) -> None:
        env.require(Role.PROVINCE)
        await show_team(env, message)

    @router.message(Command("disable", "enable"))
    async def toggle_cmd(
        message: Message,
        command: CommandObject,
        env: Env,
    ) -> None:
        env.require(Role.PROVINCE)
        usage = env.t(f"usage.{command.command}")
        account_id = int_arg(command.args, usage=usage)
        await toggle(env, message, account_id, command.command == "enable")

    @router.callback_query(TeamCb.filter())
    async def on_team(
        query: CallbackQuery,
        callback_data: TeamCb,
        env: Env,
    ) -> None:
        env.require(Role.PROVINCE)
        if callback_data.op in ("off", "on"):
            await toggle(env, query, callback_data.id, callback_data.op == "on", callback_data.page)
        else:
            await show_team(env, query, callback_data.page)

    return router
