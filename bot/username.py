"""The bot's own username, for t.me links: Telegram's `getMe` says it, the database remembers it.

The running bot stores it at every start with a token; the command line asks `getMe` itself
when it has a token and otherwise uses what the last run stored. A link is printed only for the
bot this token (or the last bot that ran on this database) belongs to: never a guess.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramNetworkError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from storage.db import Database
from storage.models import BotInfo
from storage.upsert import upsert
from workflow.clock import Clock

log = logging.getLogger(__name__)

USERNAME, BOT_ID = "username", "bot_id"
GET_ME_TIMEOUT = 15


@dataclass(frozen=True)
class KnownBot:
    bot_id: int | None
    username: str


def bot_id_of(token: str) -> int | None:
    head = token.split(":", 1)[0]
    return int(head) if head.isdigit() else None


async def cached(session: AsyncSession) -> KnownBot | None:
    name = await session.get(BotInfo, USERNAME)
    if name is None or not name.value:
        return None
    bot_id = await session.get(BotInfo, BOT_ID)
    known_id = int(bot_id.value) if bot_id is not None and bot_id.value.isdigit() else None
    return KnownBot(known_id, name.value)


async def store(session: AsyncSession, known: KnownBot, clock: Clock) -> None:
    # An upsert: two instances starting at once both store, neither fails.
    values = {USERNAME: known.username, BOT_ID: str(known.bot_id or "")}
    for key, value in values.items():
        row = {"key": key, "value": value, "updated_at": clock.now()}
        await upsert(session, BotInfo, row, ["key"], ["value", "updated_at"])


async def ask_telegram(bot: Bot) -> KnownBot | None:
    """`getMe`, or None (with a warning) when Telegram cannot be reached or refuses."""
    try:
        me = await bot.get_me(request_timeout=GET_ME_TIMEOUT)
    except (TimeoutError, TelegramAPIError, TelegramNetworkError, OSError) as exc:
        log.warning("getMe failed, the bot's username is not known from Telegram: %s", exc)
        return None
    return KnownBot(me.id, me.username) if me.username else None


async def remember(db: Database, bot: Bot, clock: Clock) -> KnownBot | None:
    """At the start of a bot with a token: store the username Telegram gives it."""
    known = await ask_telegram(bot)
    if known is not None:
        async with db.transaction() as session:
            await store(session, known, clock)
    return known


async def for_links(settings: Settings, db: Database, clock: Clock) -> str | None:
    """The username to build t.me links with, or None when this bot's name cannot be known.

    With a token, `getMe` answers (and refreshes the database); if it cannot be reached, the
    stored name is used only when it was stored for this very token's bot. Without a token,
    the stored name is that of the last bot that ran on this database."""
    if settings.sandbox:
        async with db.transaction() as session:
            known = await cached(session)
        return known.username if known else None
    from bot.app import build_bot

    assert settings.bot_token is not None
    token = settings.bot_token.get_secret_value()
    bot = build_bot(token, settings.telegram_api_url)
    try:
        fresh = await ask_telegram(bot)
    finally:
        await bot.session.close()
    async with db.transaction() as session:
        if fresh is not None:
            await store(session, fresh, clock)
            return fresh.username
        known = await cached(session)
    if known is not None and known.bot_id == bot_id_of(token):
        return known.username
    return None
