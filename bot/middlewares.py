"""Per-update wiring: one database session, the user's account and language, and the
translation of workflow refusals into messages."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.fsm.context import FSMContext
from aiogram.types import TelegramObject, Update, User
from sqlalchemy import select

from bot.i18n import Translator, normalize_locale
from bot.replies import tell
from bot.services import Services
from storage.models import Account, TelegramUser
from workflow.actor import Actor
from workflow.context import Ctx
from workflow.errors import DomainError

log = logging.getLogger(__name__)

LAST_SEEN_EVERY = timedelta(minutes=10)

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


async def load_user(ctx: Ctx, user: User) -> tuple[TelegramUser, Account | None]:
    """The Telegram user's row (created on first contact) and the account bound to it."""
    row = await ctx.session.get(TelegramUser, user.id)
    now = ctx.now()
    if row is None:
        row = TelegramUser(
            id=user.id,
            chat_id=user.id,
            language_code=user.language_code,
            first_seen=now,
            last_seen=now,
        )
        ctx.session.add(row)
        await ctx.session.flush()
    elif row.last_seen is None or now - row.last_seen > LAST_SEEN_EVERY:
        row.last_seen = now
        row.language_code = user.language_code
    account = None
    if row.account_id is not None:
        account = await ctx.session.scalar(
            select(Account).where(Account.id == row.account_id, Account.is_active)
        )
    return row, account


def locale_for(row: TelegramUser | None, user: User | None, default: str) -> str:
    """A choice made with /language wins; then Telegram's language; then the default."""
    if row is not None and row.locale:
        return row.locale
    return normalize_locale(user.language_code if user else None) or default


class DbSessionMiddleware(BaseMiddleware):
    """Outer middleware on updates, inside aiogram's FSM middleware (so inside the per-user lock).

    Opens the update's session, loads who is acting, binds the FSM context to the session,
    commits when the handler returns, and turns a workflow refusal into a message after rolling
    back whatever the handler had started.
    """

    def __init__(self, services: Services) -> None:
        self.services = services

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        settings = self.services.settings
        async with self.services.db.session() as session:
            ctx = self.services.ctx(session)
            user: User | None = data.get("event_from_user")
            row, account = (await load_user(ctx, user)) if user else (None, None)
            i18n = Translator(locale_for(row, user, settings.default_locale), settings.tz)
            data.update(
                ctx=ctx,
                session=session,
                services=self.services,
                tg_user=row,
                account=account,
                actor=Actor.of(account) if account else None,
                i18n=i18n,
            )
            state: FSMContext | None = data.get("state")
            if state is not None:
                data["state"] = FSMContext(
                    storage=self.services.fsm_storage.bound(session), key=state.key
                )
            try:
                result = await handler(event, data)
                await session.commit()
                return result
            except DomainError as err:
                if err.persist:
                    await session.commit()
                else:
                    await session.rollback()
                if isinstance(event, Update):
                    bot: Bot = data["bot"]
                    await tell(bot, event, i18n.error(err.code, err.params))
                return None
