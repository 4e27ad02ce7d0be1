"""Per-update wiring: one database session, the user's account and language, and the
translation of workflow refusals into messages."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from datetime import timedelta
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.fsm.context import FSMContext
from aiogram.fsm.middleware import FSMContextMiddleware
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import TelegramObject, Update, User
from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.disabled import refuse_if_disabled
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

# The session of the update being handled, for CommitBeforeSend (each update runs in its task).
_update_session: ContextVar[AsyncSession | None] = ContextVar("update_session", default=None)


class CommitBeforeSend(BaseRequestMiddleware):
    """Commits the current update's transaction before any call to Telegram that sends or
    changes something (reads such as `getFile` keep the transaction open).

    The user is never told of a change that could still roll back, and no database connection
    (SQLite has a single one) is held while a request crosses the network: without this, every
    update's reply time is added to the time the write lock is held, and the bot falls behind
    Telegram's own rate on a busy deadline day. A refusal raised after a message went out rolls
    back only what was written after it."""

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Any:
        session = _update_session.get()
        if (
            session is not None
            and session.in_transaction()
            and not type(method).__name__.startswith("Get")  # reads (getFile) tell nobody
        ):
            await session.commit()
        return await make_request(bot, method)


async def load_user(ctx: Ctx, user: User) -> tuple[TelegramUser, Account | None]:
    """The Telegram user's row (created on first contact) and the account bound to it."""
    found = (
        await ctx.session.execute(
            select(TelegramUser, Account)
            .outerjoin(Account, and_(Account.id == TelegramUser.account_id, Account.is_active))
            .where(TelegramUser.id == user.id)
        )
    ).first()
    now = ctx.now()
    if found is None:
        row = TelegramUser(
            id=user.id,
            chat_id=user.id,
            language_code=user.language_code,
            first_seen=now,
            last_seen=now,
        )
        ctx.session.add(row)
        await ctx.session.flush()
        return row, None
    row, account = found
    if row.last_seen is None or now - row.last_seen > LAST_SEEN_EVERY:
        row.last_seen = now
        row.language_code = user.language_code
    return row, account


def locale_for(row: TelegramUser | None, user: User | None, default: str) -> str:
    """A choice made with /language wins; then Telegram's language; then the default."""
    if row is not None and row.locale:
        return row.locale
    return normalize_locale(user.language_code if user else None) or default


class UserLockMiddleware(FSMContextMiddleware):
    """aiogram's FSM middleware without its own read of the state: it takes the per-user lock and
    resolves the context; DbSessionMiddleware, inside the lock, reads the state in the update's
    transaction (one transaction per update instead of two)."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        context = self.resolve_event_context(data["bot"], data)
        data["fsm_storage"] = self.storage
        if context is None:
            return await handler(event, data)
        async with self.events_isolation.lock(key=context.key):
            data["state"] = context
            return await handler(event, data)


class DbSessionMiddleware(BaseMiddleware):
    """Outer middleware on updates, inside UserLockMiddleware (so inside the per-user lock).

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
            if account is None and await refuse_if_disabled(
                ctx, session, data["bot"], event, row, i18n
            ):
                return None
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
                bound = FSMContext(storage=self.services.fsm_storage.bound(session), key=state.key)
                data.update(state=bound, raw_state=await bound.get_state())
            token = _update_session.set(session)
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
            finally:
                _update_session.reset(token)
