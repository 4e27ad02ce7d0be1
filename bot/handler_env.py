"""A feature router whose handlers can take one `env` argument instead of the update's parts:
the staff consoles and the trainee screens each build their own `Env` from the update's data."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiogram import BaseMiddleware, Bot, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import TelegramObject

from bot.i18n import Translator
from workflow.actor import Actor
from workflow.context import Ctx


@dataclass
class UpdateParts:
    """What every screen's `env` holds: the update's context, who acts, their translator, the
    dialog state and the bot."""

    ctx: Ctx
    actor: Actor
    i18n: Translator
    state: FSMContext
    bot: Bot


Build = Callable[[dict[str, Any]], Awaitable[Any]]


class EnvOnDemand(BaseMiddleware):
    """Gives `env` to a handler whose parameters ask for it, built by `build` from the update's
    data; a handler that does not ask costs nothing."""

    def __init__(self, build: Build) -> None:
        self.build = build

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        wanted = data.get("handler")
        if wanted is not None and "env" in wanted.params:
            data["env"] = await self.build(data)
        return await handler(event, data)


def router_with_env(name: str, build: Build, *filters: Any) -> Router:
    """A router whose messages and button presses pass `filters`, and whose handlers can take
    `env`."""
    router = Router(name=name)
    middleware = EnvOnDemand(build)
    for observer in (router.message, router.callback_query):
        for check in filters:
            observer.filter(check)
        observer.middleware(middleware)
    return router
