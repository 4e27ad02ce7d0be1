"""Messages to one chat paced within Telegram's per-chat limits, whoever sends them.

Telegram asks bots not to send more than about one message per second to a chat (short bursts
are allowed) and 20 per minute to a group. `PaceChats` is a request middleware on the Bot,
inside `DeferSends`: every message that actually goes out (an update's replies, owed replies,
the outbox's notices, the flood notice) first takes the chat's next slot and waits for it. The
slots are rate cells (bot/rates.py), in Redis with `REDIS_URL`, so instances share them. Edits,
callback answers and deletions are not messages and are not paced.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType

from bot.config import Settings
from bot.rates import Cells, LocalCells, RedisCells

_UNPACED = {"SendChatAction"}
_PACED_OTHERS = {"CopyMessage", "CopyMessages", "ForwardMessage", "ForwardMessages"}


def is_message(method: TelegramMethod[Any]) -> bool:
    name = type(method).__name__
    return (name.startswith("Send") and name not in _UNPACED) or name in _PACED_OTHERS


def is_group(chat_id: int | str) -> bool:
    return isinstance(chat_id, str) or chat_id < 0


class PaceChats(BaseRequestMiddleware):
    def __init__(self, private: Cells, groups: Cells) -> None:
        self.private = private
        self.groups = groups

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Any:
        chat_id = getattr(method, "chat_id", None)
        if chat_id is not None and is_message(method):
            cells = self.groups if is_group(chat_id) else self.private
            wait = await cells.reserve(f"{bot.id}:{chat_id}")
            if wait > 0:
                await asyncio.sleep(wait)
        return await make_request(bot, method)

    async def close(self) -> None:
        await self.private.close()
        await self.groups.close()


def pacing_for(settings: Settings) -> PaceChats:
    private = (settings.chat_send_burst, settings.chat_send_per_second)
    groups = (settings.group_send_burst, settings.group_send_per_minute / 60)
    if not settings.redis_url:
        return PaceChats(LocalCells(*private), LocalCells(*groups))
    from redis.asyncio import Redis

    redis = Redis.from_url(settings.redis_url)
    return PaceChats(
        RedisCells(redis, "zhupei:pace:private", *private),
        RedisCells(redis, "zhupei:pace:group", *groups, owns_client=False),
    )
