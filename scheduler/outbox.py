"""The outbox sender: delivers queued notices to their recipients' chats.

This first version drains in deadline order and records the message it sent; rate limits,
leases and retries are the sender's next step.
"""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramForbiddenError
from sqlalchemy import select

from bot.i18n import Translator, normalize_locale
from bot.notices import render
from bot.services import Services
from storage.models import Account, OutboxMessage, TelegramUser

log = logging.getLogger(__name__)


async def drain_once(services: Services, bot: Bot, *, limit: int = 100) -> int:
    """Send what is due now; returns the number of messages sent."""
    now = services.clock.now()
    sent = 0
    async with services.db.transaction() as session:
        rows = (
            await session.scalars(
                select(OutboxMessage)
                .where(
                    OutboxMessage.status == "pending",
                    (OutboxMessage.not_before.is_(None)) | (OutboxMessage.not_before <= now),
                )
                .order_by(
                    OutboxMessage.deadline_at.is_(None), OutboxMessage.deadline_at, OutboxMessage.id
                )
                .limit(limit)
            )
        ).all()
        for row in rows:
            tg = await session.scalar(
                select(TelegramUser).where(TelegramUser.account_id == row.account_id)
            )
            account = await session.get(Account, row.account_id)
            if tg is None or account is None or not account.is_active:
                row.status, row.last_error = "unreachable", "no bound chat"
                continue
            locale = (
                tg.locale or normalize_locale(tg.language_code) or services.settings.default_locale
            )
            i18n = Translator(locale, services.settings.tz)
            rendered = await render(services.ctx(session), row, i18n)
            if rendered is None:
                row.status = "skipped"
                continue
            chat_id = tg.chat_id or tg.id
            try:
                message = await bot.send_message(
                    chat_id, rendered.text, reply_markup=rendered.reply_markup
                )
            except TelegramForbiddenError:
                row.status, row.last_error = "blocked", "bot blocked by the user"
                continue
            except TelegramAPIError as exc:
                row.attempts += 1
                row.last_error = type(exc).__name__
                log.warning("outbox row %s failed: %s", row.id, type(exc).__name__)
                continue
            row.status, row.sent_at = "sent", services.clock.now()
            row.chat_id, row.message_id = chat_id, message.message_id
            sent += 1
    return sent
