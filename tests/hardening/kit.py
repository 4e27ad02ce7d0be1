"""What the hardening tests share: the bot with Telegram's and people's real limits, a router
of extra calls (a document, a deletion, several messages from one update), raw updates and
the texts users must or must not see."""

from __future__ import annotations

import asyncio
import itertools
import os
from collections.abc import Callable
from typing import Any

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import BotCommand, BotCommandScopeChat, BufferedInputFile, Message

from bench.probe import build_probe_router
from bot.config import Settings
from bot.emulator import ScriptedUser
from bot.i18n import Translator
from handlers import build_routers
from tests.harness import MACHINE_SPEED, BotHarness

ZH = Translator("zh-CN", Settings(_env_file=None).tz)  # type: ignore[call-arg]
EN = Translator("en", ZH.tz)
APOLOGIES = (ZH("error.unexpected"), EN("error.unexpected"))
SLOW_DOWN = (ZH("flood.slow_down"), EN("flood.slow_down"))

# User ids unique to this run: flood and pacing cells may live in a Redis shared by runs.
_ids = itertools.count(600_000_000 + (os.getpid() % 10_000) * 10_000)


def fresh_user_id() -> int:
    return next(_ids)


def build_kit_router() -> Router:
    """Calls the features make, each in its plainest form, through the same update unit."""
    router = Router(name="hardening-kit")

    @router.message(Command("many"))
    async def many(message: Message, command: CommandObject) -> None:
        for i in range(int(command.args or 1)):
            await message.answer(f"part {i + 1}")

    @router.message(Command("doc"))
    async def doc(message: Message, bot: Bot) -> None:
        await bot.send_document(
            message.chat.id, BufferedInputFile(b"%PDF-1.4 kit", filename="kit.pdf"), caption="kit"
        )

    @router.message(Command("forget"))
    async def forget(message: Message) -> None:
        await message.delete()
        await message.answer("forgotten")

    @router.message(Command("menu"))
    async def menu(message: Message, bot: Bot) -> None:
        await bot.set_my_commands(
            [BotCommand(command="kit", description="kit")],
            scope=BotCommandScopeChat(chat_id=message.chat.id),
        )
        await message.answer("menu set")

    return router


def real_limits(app: BotHarness, **overrides: Any) -> None:
    """Flood control and pacing as deployed (or as `overrides` say)."""
    defaults = Settings(_env_file=None)  # type: ignore[call-arg]
    for key in MACHINE_SPEED:
        setattr(app.services.settings, key, getattr(defaults, key))
    for key, value in overrides.items():
        setattr(app.services.settings, key, value)


async def restart_with_kit(app: BotHarness) -> None:
    await app.restart(routers=[build_probe_router(), build_kit_router(), *build_routers()])


def command(user: ScriptedUser, text: str) -> dict[str, Any]:
    name = text.split()[0]
    return {
        "message": {
            "from": user.api,
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": len(name)}],
        }
    }


def press_payload(user: ScriptedUser, message: Any, data: str) -> dict[str, Any]:
    return {
        "callback_query": {
            "from": user.api,
            "message": message.to_api(),
            "chat_instance": f"ci{user.chat_id}",
            "data": data,
        }
    }


async def all_processed(app: BotHarness, update_ids: list[int], timeout: float = 60) -> None:  # noqa: ASYNC109
    for update_id in update_ids:
        await app.emulator.wait_processed(update_id, timeout)


async def wait_for(predicate: Callable[[], bool], timeout: float = 10.0) -> None:  # noqa: ASYNC109
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.02)


def texts(user: ScriptedUser) -> list[str]:
    return [m.text or "" for m in user.bot_messages()]


def no_apology(user: ScriptedUser) -> None:
    shown = texts(user)
    assert not any(a in t for t in shown for a in APOLOGIES), shown
    answers = [
        (c.answer or {}).get("text") or ""
        for c in user.emulator.state.callbacks.values()
        if c.user_id == user.user_id
    ]
    assert not any(a in t for t in answers for a in APOLOGIES), answers
