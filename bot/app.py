"""Builds the Bot and the Dispatcher. Routers come from factories, so a test can build as many
dispatchers as it likes (a Router attaches to one Dispatcher only)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aiogram import BaseMiddleware, Bot, Dispatcher, Router
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.fsm.storage.base import BaseEventIsolation
from aiogram.fsm.storage.memory import SimpleEventIsolation
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import LinkPreviewOptions

from bot import chat_scope
from bot.config import Settings
from bot.errors import build_error_router
from bot.flood import flood_control_for
from bot.metrics import MetricsMiddleware
from bot.middlewares import DbSessionMiddleware, UserLockMiddleware
from bot.pacing import pacing_for
from bot.services import Services
from bot.unit import DeferSends

# `Response[T]` for each result type a call has returned, held here: pydantic keeps its generic
# models in a weak cache, and aiogram builds `Response[method.__returning__]` for every answer
# from Telegram, so without a strong reference the model (its whole schema, some 30 ms of CPU)
# was built again for about every second call.
_RESPONSE_TYPES: dict[Any, Any] = {}


class Session(AiohttpSession):
    def check_response(
        self, bot: Bot, method: TelegramMethod[TelegramType], status_code: int, content: str
    ) -> Response[TelegramType]:
        returning = method.__returning__
        if returning not in _RESPONSE_TYPES:
            _RESPONSE_TYPES[returning] = Response[returning]  # type: ignore[valid-type]
        return super().check_response(bot, method, status_code, content)


def build_bot(token: str, api_url: str | None = None, settings: Settings | None = None) -> Bot:
    """With `settings`, messages to one chat are paced within Telegram's per-chat limits
    (bot/pacing.py), whichever part of the bot sends them."""
    session = Session(api=TelegramAPIServer.from_base(api_url)) if api_url else Session()
    bot = Bot(
        token=token,
        session=session,
        default=DefaultBotProperties(
            parse_mode=ParseMode.HTML, link_preview=LinkPreviewOptions(is_disabled=True)
        ),
    )
    bot.session.middleware(DeferSends())
    if settings is not None:
        bot.session.middleware(pacing_for(settings))
    return bot


def build_isolation(settings: Settings) -> BaseEventIsolation:
    """Two updates of one user never run at once: per process, or across instances via Redis."""
    if settings.redis_url:
        from aiogram.fsm.storage.redis import RedisEventIsolation
        from redis.asyncio import BlockingConnectionPool, Redis

        # Waiting for a pooled connection beats failing a burst with "Too many connections".
        pool = BlockingConnectionPool.from_url(settings.redis_url, max_connections=64, timeout=30)
        return RedisEventIsolation(
            redis=Redis(connection_pool=pool),
            lock_kwargs={"timeout": 60, "blocking_timeout": 60, "sleep": 0.02},
        )
    return SimpleEventIsolation()


def build_dispatcher(
    services: Services,
    *,
    isolation: BaseEventIsolation | None = None,
    outermost: Sequence[BaseMiddleware] = (),
    routers: Sequence[Router] | None = None,
) -> Dispatcher:
    """`outermost` middlewares wrap everything (a test harness tracking finished updates);
    `routers` replaces the project's routers (a benchmark's probe router, say)."""
    from handlers import build_routers

    # aiogram registers its FSM middleware (which takes the per-user lock) at construction when
    # FSM is enabled; disabling it and registering it ourselves puts our session middleware
    # inside the lock, so an update's commit happens before the next update of that user reads.
    dp = Dispatcher(
        storage=services.fsm_storage,
        events_isolation=isolation or build_isolation(services.settings),
        disable_fsm=True,
    )
    dp.update.outer_middleware(MetricsMiddleware())
    for middleware in outermost:
        dp.update.outer_middleware(middleware)
    # Outside the per-user lock and the session: a flood costs neither.
    flood = flood_control_for(services)
    dp.update.outer_middleware(flood)
    dp.shutdown.register(flood.close)
    dp.update.outer_middleware(
        UserLockMiddleware(
            storage=dp.fsm.storage,
            events_isolation=dp.fsm.events_isolation,
            strategy=dp.fsm.strategy,
        )
    )
    dp.update.outer_middleware(DbSessionMiddleware(services))
    dp.update.outer_middleware(chat_scope.PrivateChatsOnly())  # groups: one line, nothing else
    dp.include_router(build_error_router())
    dp.include_router(chat_scope.build_router())
    dp.include_routers(*(build_routers() if routers is None else routers))
    dp["services"] = services
    return dp
