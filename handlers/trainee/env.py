"""What a trainee handler gets as `env`: the update's context, the trainee, the translator, the
dialog state, the bot and the services, built by the router's middleware (as the staff
screens' `env`, `handlers/staff/common.py`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiogram import BaseMiddleware, Bot, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import TelegramObject

from bot.i18n import Translator
from bot.services import Services
from handlers.trainee.ui import trainee_only
from workflow.actor import Actor
from workflow.context import Ctx


@dataclass
class Env:
    """The parts of an update a trainee screen needs."""

    ctx: Ctx
    actor: Actor
    i18n: Translator
    state: FSMContext
    bot: Bot
    services: Services


class TraineeEnv(BaseMiddleware):
    """Gives `env` to a handler whose parameters ask for it; the router's filter has made sure
    the user is a trainee."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        wanted = data.get("handler")
        if wanted is not None and "env" in wanted.params:
            keys = ("ctx", "actor", "i18n", "state", "bot", "services")
            data["env"] = Env(*(data[k] for k in keys))
        return await handler(event, data)


def trainee_router(name: str) -> Router:
    """A trainee feature's router: its messages and buttons are for trainees only, and its
    handlers can take `env: Env`."""
    router = Router(name=name)
    middleware = TraineeEnv()
    for observer in (router.message, router.callback_query):
        observer.filter(trainee_only)
        observer.middleware(middleware)
    return router
