"""Command menus (setMyCommands), in private chats only: a guest one for every private chat,
and one per role scoped to the (private) chat of each staff or trainee account, in the user's
language."""

from __future__ import annotations

from aiogram import Bot
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    MenuButtonWebApp,
    WebAppInfo,
)

from bot.i18n import LOCALES, Translator
from workflow.enums import Role

GUEST = ("start", "register", "login", "language", "help", "cancel")
ROLE_COMMANDS: dict[Role | None, tuple[str, ...]] = {
    None: GUEST,
    Role.TRAINEE: (
        "profile",
        "apply",
        "status",
        "calendar",
        "years",
        "reminders",
        "language",
        "help",
        "cancel",
    ),
    # Staff: the sections of /menu as commands; the action commands (/preadmit 12 …) are in
    # /menu's help and the README, not in the menu.
    Role.BASE: (
        "menu",
        "queue",
        "admission",
        "checkin",
        "trainings",
        "reductions",
        "alloc",
        "changes",
        "declare",
        "plans",
        "batches",
        "stats",
        "calendar",
        "history",
        "language",
        "help",
        "cancel",
    ),
    Role.CITY: (
        "menu",
        "confirm",
        "reductions",
        "changes",
        "plans",
        "batches",
        "stats",
        "calendar",
        "history",
        "language",
        "help",
        "cancel",
    ),
    Role.PROVINCE: (
        "menu",
        "planreview",
        "confirm",
        "reductions",
        "changes",
        "alloc",
        "handover",
        "team",
        "plans",
        "batches",
        "stats",
        "calendar",
        "history",
        "language",
        "help",
        "cancel",
    ),
}
STAFF_COMMANDS = (
    frozenset(
        name for role in (Role.BASE, Role.CITY, Role.PROVINCE) for name in ROLE_COMMANDS[role]
    )
    - set(ROLE_COMMANDS[Role.TRAINEE])
    - set(GUEST)
)


def commands_for(role: Role | None, i18n: Translator) -> list[BotCommand]:
    return [
        BotCommand(command=name, description=i18n(f"commands.{name}"))
        for name in ROLE_COMMANDS[role]
        if i18n.has(f"commands.{name}")
    ]


async def set_default_menus(bot: Bot, miniapp_url: str | None = None) -> None:
    """The guest menu in private chats: zh-CN for everybody, English for English-language
    Telegram clients. Groups get no menu (the bot works in private chats only): the default
    scope, which groups fall back to, is emptied. With the Mini App, the chat's menu button
    opens it (its start page offers what the account's role can do there; an unbound user is
    told to register or log in)."""
    if miniapp_url:
        await bot.set_chat_menu_button(
            menu_button=MenuButtonWebApp(
                text=Translator("zh-CN")("miniapp.menu_button"), web_app=WebAppInfo(url=miniapp_url)
            )
        )
    private = BotCommandScopeAllPrivateChats()
    await bot.set_my_commands(commands_for(None, Translator("zh-CN")), scope=private)
    await bot.delete_my_commands(scope=BotCommandScopeDefault())
    for locale in LOCALES:
        if locale == "zh-CN":
            continue
        language = locale.split("-")[0]
        await bot.set_my_commands(
            commands_for(None, Translator(locale)), scope=private, language_code=language
        )
        await bot.delete_my_commands(scope=BotCommandScopeDefault(), language_code=language)


async def set_chat_menu(bot: Bot, chat_id: int, role: Role | None, i18n: Translator) -> None:
    """The menu of one chat, for its account's role and the language the user chose."""
    await bot.set_my_commands(commands_for(role, i18n), scope=BotCommandScopeChat(chat_id=chat_id))
