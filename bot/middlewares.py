"""Per-update wiring: one database session, the user's account and language, and the
translation of workflow refusals into messages."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from types import EllipsisType
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.exceptions import TelegramForbiddenError
from aiogram.fsm.context import FSMContext
from aiogram.fsm.middleware import FSMContextMiddleware
from aiogram.types import TelegramObject, Update, User
from sqlalchemy import and_, bindparam, select
from sqlalchemy.exc import DBAPIError

from bot.disabled import refuse_if_disabled
from bot.i18n import Translator, normalize_locale
from bot.replies import chat_id_of, tell
from bot.services import Services
from bot.unit import UpdateUnit
from storage.db import is_transient
from storage.models import Account, FsmRecord, TelegramUser
from workflow.actor import Actor
from workflow.context import Ctx
from workflow.errors import DomainError

log = logging.getLogger(__name__)
errors_log = logging.getLogger("zhupei.errors")

LAST_SEEN_EVERY = timedelta(minutes=10)

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


# Built once: on the path of every update, building the statement cost more than running it.
_USER = (
    select(TelegramUser, Account)
    .outerjoin(Account, and_(Account.id == TelegramUser.account_id, Account.is_active))
    .where(TelegramUser.id == bindparam("user_id"))
)
_USER_AND_STATE = _USER.add_columns(FsmRecord).outerjoin(
    FsmRecord, FsmRecord.key == bindparam("fsm_key")
)


async def load_user(
    ctx: Ctx, user: User, fsm_key: str | None = None
) -> tuple[TelegramUser, Account | None, FsmRecord | EllipsisType | None]:
    """The Telegram user's row (created on first contact), the account bound to it and, when
    `fsm_key` is given, the dialog state's row, in one statement (`...`: not read)."""
    if fsm_key is None:
        query, params = _USER, {"user_id": user.id}
    else:
        query, params = _USER_AND_STATE, {"user_id": user.id, "fsm_key": fsm_key}
    found = (await ctx.session.execute(query, params)).first()
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
        return row, None, ...
    row, account = found[0], found[1]
    if row.last_seen is None or now - row.last_seen > LAST_SEEN_EVERY:
        row.last_seen = now
        row.language_code = user.language_code
    return row, account, found[2] if fsm_key is not None else ...


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

    Runs the update as one unit (bot/unit.py): opens its session, loads who is acting, binds
    the FSM context to the session, lets the handler run with its calls to Telegram queued,
    commits the changes with the update's handled mark and owed calls, then sends them. A
    workflow refusal rolls back to the last boundary and is told to the user; so is an
    unexpected error, with an apology.
    """

    def __init__(self, services: Services) -> None:
        self.services = services

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if not isinstance(event, Update):
            return await handler(event, data)
        settings = self.services.settings
        bot: Bot = data["bot"]
        async with self.services.db.session() as session:
            unit = UpdateUnit(self.services, bot, event.update_id, chat_id_of(event), session)
            token = unit.activate()
            try:
                ctx = self.services.ctx(session)
                user: User | None = data.get("event_from_user")
                state: FSMContext | None = data.get("state")
                fsm = self.services.fsm_storage
                fsm_key = fsm.key_of(state.key) if state is not None else None
                row, account, record = (
                    (await load_user(ctx, user, fsm_key)) if user else (None, None, ...)
                )
                i18n = Translator(locale_for(row, user, settings.default_locale), settings.tz)
                unit.press, unit.unchanged_text = event.callback_query, i18n("common.unchanged")
                if account is None and await refuse_if_disabled(
                    ctx, session, bot, event, row, i18n
                ):
                    result = None
                else:
                    data.update(
                        ctx=ctx,
                        session=session,
                        services=self.services,
                        tg_user=row,
                        account=account,
                        actor=Actor.of(account) if account else None,
                        i18n=i18n,
                    )
                    if state is not None:
                        known = {fsm_key: record} if record is not ... else None
                        storage = fsm.bound(session, known)
                        bound = FSMContext(storage=storage, key=state.key)
                        data.update(state=bound, raw_state=await bound.get_state())
                    result = await self._run(handler, event, data, unit, i18n)
                if not await unit.commit():
                    return None
            finally:
                unit.deactivate(token)
        await unit.deliver()
        return result

    async def _run(
        self,
        handler: Handler,
        event: Update,
        data: dict[str, Any],
        unit: UpdateUnit,
        i18n: Translator,
    ) -> Any:
        bot: Bot = data["bot"]
        try:
            result = await handler(event, data)
        except DomainError as err:
            if not err.persist:
                await unit.undo()
            await tell(bot, event, i18n.error(err.code, err.params))
            return None
        except TelegramForbiddenError:
            # A call the handler needed the answer of (not queued) found the bot blocked.
            await unit.undo()
            log.info("update %s: the user blocked the bot", event.update_id)
            return None
        except Exception as exc:
            if is_transient(exc) or isinstance(exc, DBAPIError):
                raise  # the database is in trouble: the update stays in the inbox for later
            errors_log.error(
                "update %s failed: %s", event.update_id, type(exc).__name__, exc_info=exc
            )
            await unit.undo()
            await tell(bot, event, i18n("error.unexpected"))
            return None
        cq = event.callback_query
        if cq is not None and not unit.answered(cq.id):
            await cq.answer()  # a press is always answered, once
        return result
