"""One update, one unit: its changes, its "handled" mark and the replies it owes commit together.

While an update is handled, every call to Telegram that sends or changes something is queued
instead of sent (`DeferSends`, a request middleware on the Bot) and returns a placeholder. When
the handler returns, one transaction commits the handler's changes with an `update_log` row that
marks the update handled and holds the queued calls (encrypted: they can carry personal data);
then the calls go out in order, still inside the per-user lock, and the row's calls are cleared.

So whatever the moment of a crash:
- before the commit, nothing happened: the update is handled again from the inbox (or Telegram
  redelivers the webhook request);
- after it, the update is never handled again (its `update_log` row says so), and the replies it
  owed are sent by whoever finds them (`deliver_owed`): the restarted process, or another
  instance once the lease in `reply_after` has passed.

Handlers keep the habits they had when every send committed first: `session.commit()` inside an
update marks a boundary (a savepoint) instead of committing, and `session.rollback()` undoes only
what came after the last boundary. Each queued call is a boundary too, so a refusal raised after a
message was queued still rolls back only what came after it, and the message still goes out.

A handler that needs what a call returns (the id of a sent message) passes a callback with
`then(...)`: it runs after the call went out, in a transaction of its own.

Each call that went out is noted at once in a file beside the data (`bot/reply_marks.py`: one
line appended, no transaction), then in the update's row. After a restart an owed call noted
there is not sent again. Only a call whose answer from Telegram was lost with the process goes
out twice: the bot cannot know whether Telegram carried it out (there is no idempotency key),
and a message shown twice is better than a step left unanswered; edits, deletions and callback
answers are harmless to repeat anyway.

One sender at a time: whoever sends an update's owed calls holds its lease (`reply_after`),
the committing process from the commit on, another one from its claim in `deliver_owed`; a
sending that runs long extends the lease before it runs out (`Lease.keep`), so a periodic
`deliver_owed` never takes over calls that are still going out.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiogram import Bot
from aiogram import methods as tg_methods
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import BufferedInputFile, CallbackQuery, Chat, FSInputFile, InputFile, Message
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction

from bot import metrics
from bot.reply_marks import Key, key_of
from bot.unchanged import edits_nothing
from storage.models import UpdateLog
from storage.upsert import insert_ignoring

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)

REPLIES_FIELD = "update_replies"
# The instance that committed an update's replies sends them; another one only after this.
REPLY_LEASE = timedelta(seconds=30)
REPLY_MAX_ATTEMPTS = 8
NETWORK_RETRIES = 3

Then = Callable[[Any], Awaitable[None]]

_unit: ContextVar[UpdateUnit | None] = ContextVar("update_unit", default=None)
_sending: ContextVar[bool] = ContextVar("unit_sending", default=False)
_then: ContextVar[Then | None] = ContextVar("unit_then", default=None)


def current_unit() -> UpdateUnit | None:
    return _unit.get()


async def then(call: Awaitable[Any], callback: Then) -> Any:
    """Queue `call` (a Bot method coroutine) and run `callback(result)` once it went out.

    Outside an update the call goes out at once and the callback runs right after."""
    token = _then.set(callback)
    try:
        result = await call
    finally:
        _then.reset(token)
    if current_unit() is None:
        await callback(result)
    return result


def _is_read(method: TelegramMethod[Any]) -> bool:
    return type(method).__name__.startswith("Get")


class DeferSends(BaseRequestMiddleware):
    """Queues the calls of an update's handler until its unit is committed."""

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Any:
        unit = _unit.get()
        if unit is None or _sending.get() or _is_read(method):
            return await make_request(bot, method)
        return await unit.defer(method, _then.get())


# --- the queued calls --------------------------------------------------------------------------


@dataclass
class PendingCall:
    method: TelegramMethod[Any]
    after: Then | None = None

    @property
    def name(self) -> str:
        return type(self.method).__name__


# Copied for each placeholder: constructing a Message (some hundred fields) cost about 1.5 ms.
_PLACEHOLDER_CHAT = Chat.model_construct(id=0, type="private")
_PLACEHOLDER_MESSAGE = Message.model_construct(
    message_id=0, date=datetime(2000, 1, 1), chat=_PLACEHOLDER_CHAT, text=None
)


def _placeholder(method: TelegramMethod[Any]) -> Any:
    """What a queued call returns to the handler: enough for code that ignores the result."""
    returning = getattr(method, "__returning__", None)
    if returning is Message:
        chat_id = getattr(method, "chat_id", 0)
        chat = _PLACEHOLDER_CHAT.model_copy(
            update={"id": chat_id if isinstance(chat_id, int) else 0}
        )
        return _PLACEHOLDER_MESSAGE.model_copy(
            update={"date": datetime.now(), "chat": chat, "text": getattr(method, "text", None)}
        )
    if returning is bool or "bool" in str(returning):
        return True
    return None


def encode_calls(bot: Bot, calls: Iterable[TelegramMethod[Any]]) -> list[dict[str, Any]]:
    """Calls as JSON, with the bot's defaults resolved and files inlined (base64)."""
    out = []
    for method in calls:
        files: dict[str, InputFile] = {}
        params = {
            key: bot.session.prepare_value(value, bot=bot, files=files, _dumps_json=False)
            for key, value in method.model_dump(warnings=False).items()
        }
        inlined = {}
        for key, file in files.items():
            if isinstance(file, BufferedInputFile):
                data = file.data
            elif isinstance(file, FSInputFile):
                data = Path(file.path).read_bytes()
            else:
                raise TypeError(f"cannot keep a {type(file).__name__} for later")
            inlined[key] = [file.filename, base64.b64encode(data).decode()]
        out.append(
            {
                "m": type(method).__name__,
                "p": {k: v for k, v in params.items() if v is not None},
                "f": inlined,
            }
        )
    return out


def decode_calls(encoded: list[dict[str, Any]]) -> list[TelegramMethod[Any]]:
    calls = []
    for item in encoded:
        params = dict(item["p"])
        for key, (filename, data) in item.get("f", {}).items():
            for name, value in params.items():
                if value == f"attach://{key}":
                    params[name] = BufferedInputFile(base64.b64decode(data), filename=filename)
        calls.append(getattr(tg_methods, item["m"]).model_validate(params))
    return calls


# --- sending ------------------------------------------------------------------------------------


class SendLater(Exception):
    """The remaining calls cannot go out now (a long 429, Telegram unreachable)."""

    def __init__(self, after: float) -> None:
        super().__init__(after)
        self.after = after


class LeaseLost(Exception):
    """Another sender took the update's owed calls over: this one stops, sending nothing more."""


@dataclass
class Lease:
    """The time (`reply_after` in the update's row) until which this sender alone may send an
    update's owed calls. A delivery that runs long (a 429 waited out, a slow network) extends
    it before it runs out, so no other sender (the periodic `deliver_owed` of this process or
    of another instance) takes the calls over while they are still going out: that would send
    them twice. Extending is a conditional update: it fails when the lease was lost already."""

    update_id: int
    until: datetime

    async def keep(self, services: Services, seconds: float) -> None:
        """Make sure the lease lasts `seconds` more; `LeaseLost` if another sender has it."""
        now = services.clock.now()
        if now + timedelta(seconds=seconds) < self.until:
            return
        longer = now + REPLY_LEASE + timedelta(seconds=seconds)
        async with services.db.transaction() as session:
            moved = await session.execute(
                update(UpdateLog)
                .where(UpdateLog.update_id == self.update_id)
                .where(UpdateLog.reply_after == self.until)
                .values(reply_after=longer)
            )
        if not moved.rowcount:
            raise LeaseLost(self.update_id)
        self.until = longer


# Before each owed call, the lease must last this much longer: a call's round trip fits.
CALL_MARGIN_SECONDS = 10.0


_HARMLESS = (
    "message is not modified",
    "message to delete not found",
    "message can't be deleted",
)
_GONE = ("message to edit not found", "message can't be edited")
_TOO_OLD = ("query is too old", "query id is invalid")


async def send_call(
    bot: Bot,
    method: TelegramMethod[Any],
    *,
    chat_id: int | None,
    max_wait: float,
    before_wait: Callable[[float], Awaitable[None]] | None = None,
) -> tuple[bool, Any]:
    """Send one owed call; (sent, result). Telegram's expected refusals end the call quietly:
    a 403 (the user blocked the bot), an unchanged or vanished message, a press answered too
    late (its text then goes out as a message). A 429 is waited out up to `max_wait` seconds
    (`before_wait(seconds)` first: the sender's lease is made to last); beyond that, or when
    Telegram cannot be reached, `SendLater` says when to try again."""
    token = _sending.set(True)
    try:
        for attempt in range(1, NETWORK_RETRIES + 2):
            try:
                result = await bot(method)
                metrics.record_sent()
                return True, result
            except TelegramRetryAfter as exc:
                metrics.record_429()
                if exc.retry_after > max_wait or attempt > NETWORK_RETRIES:
                    raise SendLater(exc.retry_after) from exc
                log.info("Telegram asked to wait %ss before a reply", exc.retry_after)
                if before_wait is not None:
                    await before_wait(exc.retry_after + CALL_MARGIN_SECONDS)
                await asyncio.sleep(exc.retry_after)
            except (TelegramNetworkError, TelegramServerError) as exc:
                if attempt > NETWORK_RETRIES:
                    raise SendLater(5.0 * attempt) from exc
                await asyncio.sleep(0.5 * attempt)
            except TelegramForbiddenError:
                metrics.record_403()
                log.info("chat %s blocked the bot; reply dropped", chat_id)
                return False, None
            except TelegramBadRequest as exc:
                return False, await _after_bad_request(bot, method, exc, chat_id, max_wait)
        raise AssertionError("unreachable")
    finally:
        _sending.reset(token)


async def _after_bad_request(
    bot: Bot,
    method: TelegramMethod[Any],
    exc: TelegramBadRequest,
    chat_id: int | None,
    max_wait: float,
) -> None:
    text = exc.message.lower()
    if any(s in text for s in _HARMLESS):
        return None
    if isinstance(method, tg_methods.AnswerCallbackQuery) and any(s in text for s in _TOO_OLD):
        log.info("a callback answer came too late; %s", "sent as a message" if method.text else "")
        if method.text and chat_id is not None:
            await send_call(
                bot,
                tg_methods.SendMessage(chat_id=chat_id, text=method.text, parse_mode=None),
                chat_id=chat_id,
                max_wait=max_wait,
            )
        return None
    if isinstance(method, tg_methods.EditMessageText) and any(s in text for s in _GONE):
        # The message the screen lived in is gone: the screen comes as a new message.
        if method.chat_id is not None:
            await send_call(
                bot,
                tg_methods.SendMessage(
                    chat_id=method.chat_id, text=method.text, reply_markup=method.reply_markup
                ),
                chat_id=chat_id,
                max_wait=max_wait,
            )
        return None
    log.warning("Telegram refused a %s: %s", type(method).__name__, exc.message)
    return None


_REPEATABLE = {
    "EditMessageText",
    "EditMessageReplyMarkup",
    "EditMessageCaption",
    "DeleteMessage",
    "DeleteMessages",
    "SetMyCommands",
    "DeleteMyCommands",
    "SetChatMenuButton",
    "SendChatAction",
}


def _repeatable(method: TelegramMethod[Any]) -> bool:
    if isinstance(method, tg_methods.AnswerCallbackQuery):
        return not method.text  # a silent answer repeated is refused as too old, unseen
    return type(method).__name__ in _REPEATABLE


# --- the unit -------------------------------------------------------------------------------


def _discard_unflushed(session: Session) -> None:
    """What a rollback to a savepoint taken just now would undo: changes not flushed yet."""
    for obj in [*session.new, *session.deleted]:
        session.expunge(obj)
    for obj in list(session.dirty):
        session.expire(obj)
    for forget in session.info.get("on_soft_rollback", ()):
        forget()


@dataclass
class UpdateUnit:
    """The update being handled: its session, the calls it queued and its savepoints."""

    services: Services
    bot: Bot
    update_id: int
    chat_id: int | None
    session: AsyncSession
    calls: list[PendingCall] = field(default_factory=list)
    _savepoints: list[SessionTransaction] = field(default_factory=list)
    _dirty: bool = False
    # A boundary whose savepoint is not taken yet: it is taken right before the next write, so an
    # update that writes nothing after its last boundary (most of them) needs none.
    _boundary_pending: bool = False
    closing: bool = False
    handled_at: datetime | None = None
    reply_after: datetime | None = None
    # The press being handled, and what to say when its edit would change nothing.
    press: CallbackQuery | None = None
    unchanged_text: str | None = None
    _unchanged_answer: tg_methods.AnswerCallbackQuery | None = None

    def __post_init__(self) -> None:
        # The session's class passes its flushes and executions on (storage/db.py).
        self.session.info["unit"] = self

    def on_flush(self, session: Session) -> None:
        if session.new or session.dirty or session.deleted:
            self._take_pending_savepoint(session)
            self._dirty = True

    def on_execute(self, state: ORMExecuteState) -> None:
        if not state.is_select:
            if self._boundary_pending and not self.closing:
                state.session.flush()  # what came before this statement, after the savepoint
                self._take_pending_savepoint(state.session)
            self._dirty = True

    def _take_pending_savepoint(self, session: Session) -> None:
        if self._boundary_pending and not self.closing:
            self._boundary_pending = False
            self._savepoints.append(session.begin_nested())

    def activate(self) -> Any:
        return _unit.set(self)

    @staticmethod
    def deactivate(token: Any) -> None:
        _unit.reset(token)

    # Boundaries: what the user was told of is kept when a later refusal rolls back.

    async def boundary(self) -> None:
        await self.session.flush()
        if self._dirty:
            self._boundary_pending = True
            self._dirty = False

    async def undo(self) -> None:
        """Roll back to the last boundary (all of the update's changes when there is none)."""
        self._dirty = False
        if self._boundary_pending:
            # Nothing was written since the boundary: only what is not flushed yet goes.
            _discard_unflushed(self.session.sync_session)
            return
        if not self._savepoints:
            await AsyncSession.rollback(self.session)
            return
        savepoint = self._savepoints.pop()
        if savepoint.is_active:
            await self.session.run_sync(lambda _: savepoint.rollback())
        # The boundary stays where it was, for a second refusal.
        self._boundary_pending = True

    async def defer(self, method: TelegramMethod[Any], after: Then | None) -> Any:
        if isinstance(method, tg_methods.AnswerCallbackQuery) and self._merge_answer(method):
            return True
        if self.press is not None and edits_nothing(method, self.press):
            # An option already chosen: Telegram would refuse the edit ("message is not
            # modified"); the press gets a toast instead and the message stays as it is.
            await self._say_unchanged()
            return _placeholder(method)
        await self.boundary()
        self.calls.append(PendingCall(method, after))
        return _placeholder(method)

    def _merge_answer(self, method: tg_methods.AnswerCallbackQuery) -> bool:
        """A press is answered once: a second answer fills a silent first one, or else says its
        text as a message."""
        for call in self.calls:
            first = call.method
            if (
                isinstance(first, tg_methods.AnswerCallbackQuery)
                and first.callback_query_id == method.callback_query_id
            ):
                if method.text and first is self._unchanged_answer:
                    # The screen's own words, said after an edit that changed nothing, win.
                    first.text, first.show_alert = method.text, method.show_alert
                    self._unchanged_answer = None
                elif method.text and not first.text:
                    first.text, first.show_alert = method.text, method.show_alert
                elif method.text and self.chat_id is not None:
                    self.calls.append(
                        PendingCall(
                            tg_methods.SendMessage(
                                chat_id=self.chat_id, text=method.text, parse_mode=None
                            )
                        )
                    )
                return True
        return False

    async def _say_unchanged(self) -> None:
        assert self.press is not None
        text = self.unchanged_text
        for call in self.calls:
            first = call.method
            if (
                isinstance(first, tg_methods.AnswerCallbackQuery)
                and first.callback_query_id == self.press.id
            ):
                if not first.text:
                    first.text, first.show_alert = text, False
                    self._unchanged_answer = first
                return
        answer = tg_methods.AnswerCallbackQuery(callback_query_id=self.press.id, text=text)
        await self.defer(answer, None)
        self._unchanged_answer = answer

    def answered(self, callback_query_id: str) -> bool:
        return any(
            isinstance(c.method, tg_methods.AnswerCallbackQuery)
            and c.method.callback_query_id == callback_query_id
            for c in self.calls
        )

    # Commit and delivery.

    async def commit(self) -> bool:
        """Commit the update's changes with its handled mark and owed calls; False when the
        update had been handled already (then nothing of this run is kept)."""
        self.closing = True
        now = self.handled_at = self.services.clock.now()
        replies = None
        if self.calls:
            self.reply_after = now + REPLY_LEASE
            payload = {
                "chat": self.chat_id,
                "calls": encode_calls(self.bot, (c.method for c in self.calls)),
            }
            replies = self.services.cipher.encrypt(
                REPLIES_FIELD, json.dumps(payload, ensure_ascii=False)
            )
        stmt = insert_ignoring(self.session, UpdateLog.__table__, "update_id", "update_id")
        row = {
            "update_id": self.update_id,
            "handled_at": now,
            "replies_enc": replies,
            "reply_after": self.reply_after if replies else None,
            "replies_sent": 0,
            "reply_attempts": 0,
        }
        inserted = (await self.session.execute(stmt, row)).first()
        if inserted is None:
            await AsyncSession.rollback(self.session)
            self.calls.clear()
            log.info("update %s was handled already; this delivery is ignored", self.update_id)
            return False
        await AsyncSession.commit(self.session)
        return True

    async def deliver(self) -> None:
        """Send the committed calls in order, then clear them from the update's row."""
        if not self.calls:
            return
        await send_owed(
            self.services,
            self.bot,
            self.update_id,
            self.chat_id,
            [c.method for c in self.calls],
            key=key_of(self.update_id, self.handled_at),
            sent_before=0,
            lease=Lease(self.update_id, self.reply_after),
            afters=[c.after for c in self.calls],
        )


async def send_owed(
    services: Services,
    bot: Bot,
    update_id: int,
    chat_id: int | None,
    calls: list[TelegramMethod[Any]],
    *,
    key: Key,
    sent_before: int,
    lease: Lease,
    afters: list[Then | None] | None = None,
) -> None:
    """Send an update's owed calls from `sent_before` on (or from where the marks say), noting
    each one the moment it went out; then clear them from the update's row. The sender holds
    the update's `lease` the whole time (extended when the sending runs long)."""
    marks = services.reply_marks
    max_wait = services.settings.reply_retry_max_seconds
    sent_before = max(sent_before, marks.sent(key))
    index = sent_before

    async def keep(seconds: float) -> None:
        await lease.keep(services, seconds)

    try:
        for index in range(sent_before, len(calls)):
            method = calls[index]
            await lease.keep(services, CALL_MARGIN_SECONDS)
            ok, result = await send_call(
                bot, method, chat_id=chat_id, max_wait=max_wait, before_wait=keep
            )
            marks.note(key, index + 1)  # first: nothing may come between the answer and this
            after = afters[index] if afters else None
            if ok and after is not None:
                try:
                    await after(result)
                except TelegramForbiddenError:
                    metrics.record_403()
                    log.info("chat %s blocked the bot; a follow-up call dropped", chat_id)
                except Exception:
                    log.exception("after sending a %s", type(method).__name__)
            if index + 1 < len(calls) and not _repeatable(method):
                await _progress(services, update_id, index + 1)
    except LeaseLost:
        log.warning("update %s: its replies were taken over by another sender", update_id)
        return
    except SendLater as later:
        await _postpone(services, lease, index, later.after)
        log.info(
            "update %s: %d replies postponed by %.0fs", update_id, len(calls) - index, later.after
        )
        return
    await services.reply_clears.add(update_id)  # with other updates' clears, one statement
    marks.forget(key)


async def clear_replies(session: AsyncSession, update_ids: list[int]) -> None:
    """The updates' rows owe nothing any more."""
    await session.execute(
        update(UpdateLog)
        .where(UpdateLog.update_id.in_(update_ids))
        .values(replies_enc=None, reply_after=None)
    )


async def _progress(services: Services, update_id: int, sent: int) -> None:
    async with services.db.transaction() as session:
        await session.execute(
            update(UpdateLog).where(UpdateLog.update_id == update_id).values(replies_sent=sent)
        )


async def _postpone(services: Services, lease: Lease, sent: int, after: float) -> None:
    update_id = lease.update_id
    async with services.db.transaction() as session:
        row = await session.get(UpdateLog, update_id)
        if row is None or row.reply_after != lease.until:
            return  # gone, or another sender has it now
        row.replies_sent = sent
        row.reply_attempts += 1
        if row.reply_attempts >= REPLY_MAX_ATTEMPTS:
            log.error(
                "update %s: giving up its replies after %d tries", update_id, row.reply_attempts
            )
            row.replies_enc, row.reply_after = None, None
        else:
            row.reply_after = services.clock.now() + timedelta(seconds=max(after, 1.0))


async def deliver_owed(
    services: Services, bot: Bot, *, everything: bool = False, limit: int = 50
) -> int:
    """Send the replies that updates committed and nobody sent: after a crash (`everything`,
    at the start of the only polling instance), or those whose lease or retry time has passed.
    Returns how many updates' replies were taken."""
    now = services.clock.now()
    async with services.db.transaction() as session:
        query = select(UpdateLog).where(UpdateLog.replies_enc.is_not(None))
        if not everything:
            query = query.where(UpdateLog.reply_after <= now)
        rows = (await session.scalars(query.order_by(UpdateLog.update_id).limit(limit))).all()
        taken = []
        for row in rows:
            # A claim: another instance that read the same row finds its lease moved.
            claimed = await session.execute(
                update(UpdateLog)
                .where(UpdateLog.update_id == row.update_id)
                .where(UpdateLog.reply_after == row.reply_after)
                .values(reply_after=now + REPLY_LEASE)
            )
            if claimed.rowcount:
                key = key_of(row.update_id, row.handled_at)
                taken.append((row.update_id, key, row.replies_enc, row.replies_sent))
    marks = services.reply_marks
    until = now + REPLY_LEASE
    for update_id, key, replies, sent in taken:
        payload = json.loads(services.cipher.decrypt(REPLIES_FIELD, replies))
        calls = decode_calls(payload["calls"])
        sent = max(sent, marks.sent(key))
        log.info("update %s: sending %d owed replies", update_id, len(calls) - sent)
        chat_id = payload.get("chat")
        await send_owed(
            services,
            bot,
            update_id,
            chat_id,
            calls,
            key=key,
            sent_before=sent,
            lease=Lease(update_id, until),
        )
    return len(taken)


async def tidy_reply_marks(services: Services) -> None:
    """Let the marks file keep only the updates that still owe calls (once it has grown)."""
    async with services.db.transaction() as session:
        rows = await session.execute(
            select(UpdateLog.update_id, UpdateLog.handled_at).where(
                UpdateLog.replies_enc.is_not(None)
            )
        )
        owed = {key_of(update_id, handled_at) for update_id, handled_at in rows.all()}
    services.reply_marks.rewrite(owed)


async def already_handled(services: Services, update_ids: list[int]) -> set[int]:
    if not update_ids:
        return set()
    async with services.db.transaction() as session:
        rows = await session.scalars(
            select(UpdateLog.update_id).where(UpdateLog.update_id.in_(update_ids))
        )
        return set(rows.all())


async def purge_log(services: Services, keep: timedelta) -> int:
    """Forget handled updates older than `keep` (Telegram keeps an update for 24 hours)."""
    from sqlalchemy import delete

    cutoff = services.clock.now() - keep
    async with services.db.transaction() as session:
        result = await session.execute(
            delete(UpdateLog)
            .where(UpdateLog.handled_at < cutoff)
            .where(UpdateLog.replies_enc.is_(None))
        )
        return result.rowcount or 0


@contextlib.contextmanager
def sending_now() -> Any:
    """Calls made in this block go out at once (for code outside any handler's unit)."""
    token = _sending.set(True)
    try:
        yield
    finally:
        _sending.reset(token)
