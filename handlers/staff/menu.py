"""/menu: the work menu of each staff role, with the guide's rules stated where they apply."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.config import Settings
from bot.miniapp.links import miniapp_row
from bot.services import Services
from handlers.staff import changes, handover, plans, stats, team, years
from handlers.staff.common import Env, Event, MenuCb, button, reply, staff_router
from handlers.staff.lists import YEARS, show_list
from workflow import next_step, queues
from workflow.enums import Role

SECTIONS: dict[Role, tuple[str, ...]] = {
    Role.BASE: (
        "pre",
        "adm",
        "chk",
        "yrs",
        "red",
        "alc",
        "chg",
        "declare",
        "plans",
        "batches",
        "stats",
    ),
    Role.CITY: ("cnf", "red", "chg", "plans", "batches", "stats"),
    Role.PROVINCE: (
        "review",
        "cnf",
        "red",
        "chg",
        "alc",
        "handover",
        "team",
        "plans",
        "batches",
        "stats",
    ),
}


async def show_menu(
    env: Env, event: Event, greeting: str | None = None, settings: Settings | None = None
) -> None:
    """The role's sections, each with the count of what waits there (workflow.next_step); with
    the Mini App offered (`settings`), a button opening the workbench, where the same queues are
    tables."""
    role = env.actor.role
    scope = await queues.scope_label(env.ctx, env.actor)
    waiting = await next_step.staff_waiting(env.ctx, env.actor)
    total = sum(waiting.values())
    text = env.t(f"menu.title.{role.value}", scope=scope or "—")
    if greeting:
        text = greeting + "\n\n" + text
    text += "\n" + (
        env.i18n("start.menu.waiting", n=total) if total else env.i18n("start.menu.nothing")
    )
    text += "\n\n" + env.t(f"menu.rules.{role.value}")
    kb = InlineKeyboardBuilder()
    for section in SECTIONS[role]:
        label = env.t(f"menu.item.{section}")
        if waiting.get(section):
            label = env.i18n("start.menu.count", item=label, n=waiting[section])
        kb.button(text=label, callback_data=MenuCb(section=section))
    kb.adjust(2)
    web = miniapp_row(settings, env.i18n("miniapp_staff.open"), "staff.html")
    if web:
        kb.row(*web)
    kb.row(button(env.i18n("common.cancel"), "cancel"))
    await reply(event, text, kb.as_markup())


async def open_section(env: Env, query: CallbackQuery, section: str) -> None:
    if section not in SECTIONS[env.actor.role]:
        await show_menu(env, query)
        return
    if section in ("pre", "adm", "chk", "cnf", "alc"):
        await show_list(env, query, section, 0)
    elif section == "yrs":
        await show_list(env, query, YEARS, 0)
    elif section == "red":
        await years.show_reductions(env, query)
    elif section == "chg":
        await changes.show_requests(env, query)
    elif section == "declare":
        await plans.pick_batch(env, query, "dspec")
    elif section == "plans":
        await plans.pick_batch(env, query, "view")
    elif section == "batches":
        await plans.show_batches(env, query)
    elif section == "stats":
        await stats.pick_batch(env, query)
    elif section == "review":
        await plans.show_review(env, query)
    elif section == "handover":
        await handover.do_handover(env, query)
    elif section == "team":
        await team.show_team(env, query)


def build_router() -> Router:
    router = staff_router(name="staff-menu")

    @router.message(Command("menu"))
    async def menu_cmd(
        message: Message,
        env: Env,
        services: Services,
    ) -> None:
        await show_menu(env, message, settings=services.settings)

    @router.callback_query(MenuCb.filter())
    async def on_menu(
        query: CallbackQuery,
        callback_data: MenuCb,
        env: Env,
        services: Services,
    ) -> None:
        if callback_data.section == "home":
            await show_menu(env, query, settings=services.settings)
        else:
            await open_section(env, query, callback_data.section)

    return router
