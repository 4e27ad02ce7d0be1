"""The last line of defence: an unexpected error gets an apology in the user's language and a
traceback in the log (with personal data redacted by the log formatter)."""

from __future__ import annotations

import logging
from typing import Any

from aiogram import Bot, Router
from aiogram.exceptions import TelegramAPIError, TelegramForbiddenError
from aiogram.filters import ExceptionTypeFilter
from aiogram.types import ErrorEvent
from sqlalchemy.exc import DBAPIError

from bot import metrics
from bot.i18n import DEFAULT_LOCALE, Translator
from bot.replies import tell

log = logging.getLogger("zhupei.errors")


def build_error_router() -> Router:
    router = Router(name="errors")

    # A failing database is not apologised for: the update is kept and handled again later
    # (polling keeps it in the inbox; a webhook answers 500 and Telegram delivers it again).
    # A user who blocked the bot is an expected outcome, not a failure: no traceback, no apology
    # (it could not reach them anyway).
    @router.errors(ExceptionTypeFilter(TelegramForbiddenError))
    async def on_blocked(event: ErrorEvent) -> bool:
        metrics.record_403()
        log.info("update %s: the user blocked the bot", event.update.update_id)
        return True

    @router.errors(~ExceptionTypeFilter(DBAPIError))
    async def on_error(event: ErrorEvent, bot: Bot, **data: Any) -> bool:
        log.error(
            "update %s failed: %s",
            event.update.update_id,
            type(event.exception).__name__,
            exc_info=event.exception,
        )
        i18n: Translator = data.get("i18n") or Translator(DEFAULT_LOCALE)
        try:
            await tell(bot, event.update, i18n("error.unexpected"))
        except TelegramForbiddenError:
            log.info("update %s: the user blocked the bot", event.update.update_id)
        except TelegramAPIError:
            log.warning(
                "could not tell the user about the failure of update %s", event.update.update_id
            )
        return True

    return router
