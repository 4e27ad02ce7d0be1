"""Flood control: a user's messages and presses beyond a burst and a sustained rate are dropped.

`FloodControl` is an outer update middleware outside the per-user lock and the update's
session: a dropped update takes neither, so the flood neither queues behind the user's lock nor
holds a database connection, and other users' updates go on as before. The counting is a rate
cell per user (bot/rates.py; in Redis with `REDIS_URL`, so every instance counts together).

The first dropped update of a flood gets one notice to slow down (a message, or the toast of a
press) in the user's language; the rest are dropped silently (a press still gets its answer,
with the same toast). A dropped update is still marked handled in the update log, so a replay
from the inbox or a redelivery never runs it later; the marks of a flood are written together,
a few statements for a hundred updates (a `storage.db.GroupCommit`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.methods import AnswerCallbackQuery, SendMessage
from aiogram.types import TelegramObject, Update, User
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import Translator, normalize_locale
from bot.rates import Cells, LocalCells, RedisCells
from bot.services import Services
from bot.unit import SendLater, send_call
from storage.db import GroupCommit
from storage.models import TelegramUser, UpdateLog
from storage.upsert import dialect_insert

log = logging.getLogger(__name__)

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]

# Marks that arrive within this time are written in one statement.
MARK_GATHER_SECONDS = 0.05
NOTICE_MAX_WAIT = 5.0


async def mark_handled(session: AsyncSession, update_ids: list[int], now: datetime) -> None:
    """Dropped updates marked handled in the update log, one statement for many."""
    rows = [
        {
            "update_id": update_id,
            "handled_at": now,
            "replies_enc": None,
            "reply_after": None,
            "replies_sent": 0,
            "reply_attempts": 0,
        }
        for update_id in sorted(set(update_ids))
    ]
    stmt = dialect_insert(session)(UpdateLog.__table__).values(rows)
    await session.execute(stmt.on_conflict_do_nothing(index_elements=["update_id"]))


def counted_user(event: Update, data: dict[str, Any]) -> User | None:
    """Whose flood this update would be: messages and presses of a person."""
    if event.message is None and event.edited_message is None and event.callback_query is None:
        return None
    user: User | None = data.get("event_from_user")
    return None if user is None or user.is_bot else user


class FloodControl(BaseMiddleware):
    def __init__(self, services: Services, cells: Cells) -> None:
        self.services = services
        self.cells = cells
        self.marks: GroupCommit[int] = GroupCommit(
            services.db,
            lambda session, ids: mark_handled(session, ids, services.clock.now()),
            gather_seconds=MARK_GATHER_SECONDS,
        )
        self.dropped = 0

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if not isinstance(event, Update):
            return await handler(event, data)
        user = counted_user(event, data)
        if user is None or await self.cells.admit(f"user:{user.id}"):
            return await handler(event, data)
        self.dropped += 1
        notify = await self.cells.once(
            f"notice:{user.id}", self.services.settings.flood_notice_every_seconds
        )
        await self.marks.add(event.update_id)
        if notify:
            log.info("user %s is flooding; updates dropped for a while", user.id)
        await self._tell(data["bot"], event, user, notify)
        return None

    async def _tell(self, bot: Bot, event: Update, user: User, notify: bool) -> None:
        cq = event.callback_query
        if not notify and cq is None:
            return
        text = (await self._translator(user))("flood.slow_down")
        if cq is not None:
            call: Any = AnswerCallbackQuery(callback_query_id=cq.id, text=text)
            chat_id = cq.message.chat.id if cq.message else user.id
        else:
            message = event.message or event.edited_message
            assert message is not None
            chat_id = message.chat.id
            call = SendMessage(chat_id=chat_id, text=text)
        try:
            await send_call(bot, call, chat_id=chat_id, max_wait=NOTICE_MAX_WAIT)
        except SendLater:
            log.info("the slow-down notice to %s could not go out now; dropped", chat_id)

    async def _translator(self, user: User) -> Translator:
        """The user's language: the one chosen with /language (a read, no write), else
        Telegram's."""
        settings = self.services.settings
        async with self.services.db.session() as session:
            chosen = await session.scalar(
                select(TelegramUser.locale).where(TelegramUser.id == user.id)
            )
        locale = chosen or normalize_locale(user.language_code) or settings.default_locale
        return Translator(locale, settings.tz)

    async def close(self) -> None:
        await self.cells.close()


def flood_control_for(services: Services) -> FloodControl:
    settings = services.settings
    burst, rate = settings.flood_burst, settings.flood_rate_per_second
    if not settings.redis_url:
        return FloodControl(services, LocalCells(burst, rate))
    from redis.asyncio import Redis

    redis = Redis.from_url(settings.redis_url)
    return FloodControl(services, RedisCells(redis, "zhupei:flood", burst, rate))
