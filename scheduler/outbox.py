"""The outbox sender: delivers queued notices to their recipients' chats.

Rows are claimed with a lease (status `sending`, `lease_owner`, `lease_until`) in one statement:
`UPDATE … WHERE id IN (SELECT … ORDER BY deadline LIMIT n) RETURNING …`, atomic on SQLite (whose
writers are serialized by BEGIN IMMEDIATE), and with `FOR UPDATE SKIP LOCKED` in the inner
select on PostgreSQL, so concurrent senders never claim the same row. A sender that dies leaves
its rows claimed until the lease runs out; then any sender claims them again. Each row is
rendered right before it is sent (from fresh data, in the recipient's language), sent, and
marked in its own transaction, so a crash loses nothing and repeats at most the one message that
was in flight.

Several senders may send at once when the rate limits are shared through Redis
(`SharedRateLimiter`); otherwise only the holder of the sender lease sends. A recipient's
notices about one subject go in the order they were queued, and no two senders send to one
recipient at once (`_claimable`).

Nearest deadline first; 429 waits out retry_after; 403 (the user blocked the bot) is final for
that chat and its other queued rows, an expected outcome logged at INFO; a 400 is final; other
failures are retried with backoff. Non-urgent rows wait out the quiet hours unless their
deadline comes first. A row past its deadline is not sent, nor a muted kind, nor one whose
subject moved on (`scheduler/relevance.py`: superseded), nor a reminder whose renderer says it
is no longer relevant (skipped).
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import socket
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramRetryAfter,
)
from sqlalchemy import (
    Integer,
    all_,
    and_,
    any_,
    bindparam,
    exists,
    func,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

import scheduler.renderers  # noqa: F401 - registers the reminder renderers
from bot import metrics
from bot.i18n import Translator, normalize_locale
from bot.notices import Rendered, render
from bot.services import Services
from scheduler.ratelimit import RateLimiter, SharedRateLimiter, limiter_for
from scheduler.relevance import still_relevant
from storage.db import is_transient
from storage.models import Account, OutboxMessage, ReminderMute, TelegramUser
from storage.models.outbox import OutboxLeader
from workflow import reminders as R

log = logging.getLogger(__name__)

_T = OutboxMessage.__table__  # type: ignore[attr-defined]
BACKOFF_BASE_SECONDS = 5
BACKOFF_MAX_SECONDS = 3600
POLL_SECONDS = 1.0
WRITE_ATTEMPTS = 5
MAX_HELD_CLAIMS = 4
RESTART_SECONDS = 5.0
LEADER = "sender"
# Kinds whose rows held for one recipient and subject go out as one message (the renderer
# counts what they cover).
MERGED_KINDS = frozenset({R.LOCK_ENDING})


@dataclass
class Recipient:
    chat_id: int
    locale: str
    active: bool
    muted: frozenset[str]


@dataclass
class Claimed:
    row: OutboxMessage
    recipient: Recipient | None
    chat_id: int | None  # where the request goes: the recipient's chat, or the edited message's
    target_message_id: int | None = None  # for an edit


# The rows a sender looks at: the claim's partial index (storage/models/outbox.py) holds these
# only. Literal values, so that SQLite sees the index's own condition in the query.
def _waiting(t: Any = _T) -> Any:
    return t.c.status.in_([literal_column("'pending'"), literal_column("'sending'")])


WAITING = _waiting()


def _due(now: datetime, t: Any = _T) -> Any:
    pending = and_(t.c.status == "pending", or_(t.c.not_before.is_(None), t.c.not_before <= now))
    lease_lost = and_(t.c.status == "sending", t.c.lease_until < now)
    return or_(pending, lease_lost)


def _may_go(now: datetime, quiet_end: datetime | None, t: Any = _T) -> Any:
    """Due, and not held by the quiet hours (urgent, or its deadline comes before they end)."""
    if quiet_end is None:
        return _due(now, t)
    return and_(
        _due(now, t),
        or_(t.c.urgent.is_(True), and_(t.c.deadline_at.is_not(None), t.c.deadline_at <= quiet_end)),
    )


def _claimable(now: datetime, quiet_end: datetime | None, owner: str) -> Any:
    """The rows a sender may claim now.

    A row may go now; or it is due and a later row about the same subject to the same recipient
    may go now (an urgent notice at night): then it goes first. No row goes while an older due
    row about the same subject to the same recipient waits, nor while another live sender is
    sending to that recipient: a recipient reads the notices of a subject in the order of the
    changes that caused them, whichever sender sends them (those that went stale meanwhile are
    dropped at send time). The order conditions are one probe each of the index by recipient,
    subject and id (storage/models/outbox.py), whatever the planner knows of the table.
    """
    older, later, busy = _T.alias("older"), _T.alias("later"), _T.alias("busy")
    carried = and_(
        _due(now),
        _T.c.subject.is_not(None),
        exists(
            select(1).where(
                later.c.account_id == _T.c.account_id,
                later.c.subject == _T.c.subject,
                later.c.id > _T.c.id,
                _waiting(later),
                _may_go(now, quiet_end, later),
            )
        ),
    )
    return and_(
        or_(_may_go(now, quiet_end), carried),
        ~exists(
            select(1).where(
                older.c.account_id == _T.c.account_id,
                older.c.subject == _T.c.subject,
                older.c.id < _T.c.id,
                _waiting(older),
                _due(now, older),
            )
        ),
        # The recipients another live sender is sending to: one set per claim (the rows being
        # sent are few), not a probe per row.
        _T.c.account_id.not_in(
            select(busy.c.account_id).where(
                busy.c.status == "sending",
                busy.c.lease_until >= now,
                busy.c.lease_owner != owner,
            )
        ),
    )


class OutboxSender:
    def __init__(
        self,
        services: Services,
        bot: Bot,
        *,
        owner: str | None = None,
        limiter: RateLimiter | SharedRateLimiter | None = None,
    ) -> None:
        settings = services.settings
        self.services = services
        self.bot = bot
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.limiter: RateLimiter | SharedRateLimiter = limiter or limiter_for(
            settings.outbox_rate_per_second,
            settings.outbox_per_chat_interval_seconds,
            settings.redis_url,
            namespace=str(bot.id),
        )
        self.claim_size = max(1, settings.outbox_claim_size)
        self.lease = timedelta(seconds=settings.outbox_lease_seconds)
        self.max_attempts = settings.outbox_max_attempts
        self.outcomes: Counter[str] = Counter()
        self._held: list[Claimed] = []
        self._account_ready: dict[int, float] = {}
        self._wake = asyncio.Event()
        self._next_claim = 0.0
        self._cooling_until: float | None = None
        self._leading_until = 0.0  # monotonic end of the sender lease this sender holds
        self._last_renew = time.monotonic()
        # Heartbeat for a health check: the wall-clock time of the loop's last turn.
        self.last_loop_at: datetime | None = None

    @property
    def sent(self) -> int:
        return self.outcomes["sent"]

    def wake(self) -> None:
        """New rows were queued: look at the outbox now instead of at the next poll."""
        self._wake.set()
        self._next_claim = 0.0

    # --- the loop --------------------------------------------------------------------------

    async def drain(self, *, until_idle: bool = True, stop: asyncio.Event | None = None) -> int:
        """Send until nothing is due (`until_idle`) or until `stop` is set; returns the number
        of messages sent by this call."""
        sent_before = self.sent
        try:
            await self._loop(until_idle, stop)
        finally:
            if until_idle:
                await self._resign()
        return self.sent - sent_before

    async def _loop(self, until_idle: bool, stop: asyncio.Event | None) -> None:
        while stop is None or not stop.is_set():
            self.last_loop_at = datetime.now(UTC)
            if not await self._lead():
                if until_idle:
                    return  # another sender is sending: it sends these too
                await self._idle(POLL_SECONDS, stop)
                continue
            await self._renew_lease()
            now = time.monotonic()
            ready = sum(1 for c in self._held if self.limiter.chat_ready_at(c.chat_id) <= now)
            # Claim more when few held rows can go now (the others wait for their chat), but
            # hold no more than a few claims' worth.
            if not self._held or (
                ready <= self.claim_size // 2
                and len(self._held) < MAX_HELD_CLAIMS * self.claim_size
                and now >= self._next_claim
            ):
                await self._refill()
            if not self._held:
                if self._cooling_until is not None:  # due rows wait for their chat
                    await self._idle(max(self._cooling_until - time.monotonic(), 0.001), stop)
                    self._next_claim = 0.0
                    continue
                if until_idle:
                    return
                await self._idle(POLL_SECONDS, stop)
                continue
            item = self._next_ready()
            if item is None:
                until = min(self._earliest_ready(), max(self._next_claim, now + 0.001))
                await self._idle(min(until - now, POLL_SECONDS), stop)
                continue
            self._held.remove(item)
            if not await self._process(item):
                self._held.insert(0, item)  # 429: the same row again after the pause

    async def run(self, stop: asyncio.Event) -> None:
        """The background loop of a running bot: it outlives a failing database or network."""
        try:
            while not stop.is_set():
                try:
                    await self.drain(until_idle=False, stop=stop)
                except Exception:
                    log.exception("the outbox sender failed; trying again in %s s", RESTART_SECONDS)
                    await self._idle(RESTART_SECONDS, stop)
        finally:
            try:
                await self.release()
                await self._resign()
            except Exception:  # the rows come back anyway when their lease runs out
                log.exception("could not give back the claimed outbox rows")
            await self.limiter.close()

    async def release(self) -> None:
        """Give back the rows this sender holds (on a clean stop), so nobody waits a lease."""
        if not self._held:
            return
        ids = [c.row.id for c in self._held]
        self._held.clear()
        await self._write(
            update(_T)
            .where(_T.c.id.in_(ids), _T.c.lease_owner == self.owner, _T.c.status == "sending")
            .values(status="pending", lease_owner=None, lease_until=None)
        )

    # --- leadership: one sender at a time --------------------------------------------------

    async def _lead(self) -> bool:
        """Hold the sender lease (take it, or renew it once a third of it has passed); False
        while another live sender holds it. With the limits shared in Redis every sender
        sends: no lease."""
        if self.limiter.shared:
            return True
        if time.monotonic() < self._leading_until - self.lease.total_seconds() * 2 / 3:
            return True
        now = self.services.clock.now()
        until = now + self.lease
        values = {"name": LEADER, "owner": self.owner, "until": until}
        leader = OutboxLeader.__table__  # type: ignore[attr-defined]
        dialect = self.services.db.backend
        insert_ = postgresql.insert if dialect == "postgresql" else sqlite.insert
        taken = await self._write(
            insert_(leader).values(**values).on_conflict_do_nothing(index_elements=["name"])
        )
        taken = taken or await self._write(
            update(leader)
            .where(
                leader.c.name == LEADER,
                or_(leader.c.owner == self.owner, leader.c.until < now),
            )
            .values(owner=self.owner, until=until)
        )
        started = time.monotonic()
        self._leading_until = started + self.lease.total_seconds() if taken else 0.0
        return bool(taken)

    async def _resign(self) -> None:
        if self._leading_until == 0.0:
            return
        self._leading_until = 0.0
        leader = OutboxLeader.__table__  # type: ignore[attr-defined]
        await self._write(
            update(leader)
            .where(leader.c.name == LEADER, leader.c.owner == self.owner)
            .values(until=self.services.clock.now() - timedelta(seconds=1))
        )

    async def _idle(self, seconds: float, stop: asyncio.Event | None) -> None:
        """Sleep up to `seconds`, less if woken (new rows) or stopped."""
        waiters = [asyncio.ensure_future(self._wake.wait())]
        if stop is not None:
            waiters.append(asyncio.ensure_future(stop.wait()))
        try:
            await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waiters:
                w.cancel()
            self._wake.clear()

    def _next_ready(self) -> Claimed | None:
        now = time.monotonic()
        for item in self._held:
            if self.limiter.chat_ready_at(item.chat_id) <= now:
                return item
        return None

    def _earliest_ready(self) -> float:
        return min(self.limiter.chat_ready_at(item.chat_id) for item in self._held)

    # --- claiming --------------------------------------------------------------------------

    async def _refill(self) -> None:
        want = min(self.claim_size, MAX_HELD_CLAIMS * self.claim_size - len(self._held))
        now_mono = time.monotonic()
        self._account_ready = {a: t for a, t in self._account_ready.items() if t > now_mono}
        held = {c.row.account_id for c in self._held}
        claimed, cooling = await self.services.db.run(
            lambda s: self._claim(s, want, held, set(self._account_ready))
        )
        self._held.extend(claimed)
        # A short claim means the queue is drained for now: look again at the next poll, or
        # as soon as a chat whose rows were left out may receive again.
        self._cooling_until = min((self._account_ready[a] for a in cooling), default=None)
        if len(claimed) == want:
            self._next_claim = 0.0
        else:
            self._next_claim = min(now_mono + POLL_SECONDS, self._cooling_until or math.inf)

    async def _claim(
        self, session: AsyncSession, limit: int, held: set[int], cooling: set[int]
    ) -> tuple[list[Claimed], set[int]]:
        """Claim up to `limit` due rows (see `_claimable`), nearest deadline first, leaving out
        accounts whose rows are held already or whose chat is cooling down; returns them and
        the cooling accounts with due rows."""
        now = self.services.clock.now()
        settings = self.services.settings
        quiet_end = R.quiet_until(
            now, settings.quiet_hours_start, settings.quiet_hours_end, settings.tz
        )
        claimable = _claimable(now, quiet_end, self.owner)
        postgres = self.services.db.backend == "postgresql"
        conditions = [WAITING, claimable]
        if held | cooling:
            # Their chats wait for the per-chat limit: leave their rows to a later claim. On
            # PostgreSQL one array parameter, whatever their number (a list of thousands of
            # parameters would be a new statement to prepare and plan at every claim).
            skip = sorted(held | cooling)
            if postgres:
                ids = bindparam("skip", skip, type_=postgresql.ARRAY(Integer))
                conditions.append(_T.c.account_id != all_(ids))
            else:
                conditions.append(_T.c.account_id.not_in(skip))
        # Nearest deadline first: the order of the partial index on (deadline_at, id), so the
        # claim reads the waiting rows from its start and stops at `limit`.
        pick = (
            select(_T.c.id)
            .where(*conditions)
            .order_by(_T.c.deadline_at.asc().nulls_last(), _T.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)  # PostgreSQL; SQLite ignores it (one writer)
        )
        # PostgreSQL may run an `IN (subquery)` again for each row it scans, and a rerun of a
        # LIMITed SKIP LOCKED pick returns other rows: one claim then took every due row.
        # `= ANY(ARRAY(pick))` runs the pick once.
        chosen = (
            _T.c.id == any_(func.array(pick.scalar_subquery())) if postgres else _T.c.id.in_(pick)
        )
        result = await session.execute(
            update(_T)
            .where(chosen, *conditions)
            .values(
                status="sending",
                lease_owner=self.owner,
                lease_until=now + self.lease,
                attempts=_T.c.attempts + 1,
            )
            .returning(*_T.c)
        )
        rows = sorted(
            (OutboxMessage(**dict(r._mapping)) for r in result.all()),
            key=lambda r: (r.deadline_at is None, r.deadline_at or now, r.id),
        )
        waiting: set[int] = set()
        if len(rows) < limit and cooling:
            among = (
                _T.c.account_id
                == any_(bindparam("cooling", sorted(cooling), type_=postgresql.ARRAY(Integer)))
                if postgres
                else _T.c.account_id.in_(sorted(cooling))
            )
            waiting = set(
                (
                    await session.scalars(
                        select(_T.c.account_id).where(WAITING, claimable, among).distinct()
                    )
                ).all()
            )
        if not rows:
            return [], waiting
        recipients = await self._recipients(session, {r.account_id for r in rows})
        targets = await self._edit_targets(session, {r.edit_of for r in rows if r.edit_of})
        out = []
        for row in rows:
            rcpt = recipients.get(row.account_id)
            if row.edit_of is not None:
                chat_id, message_id = targets.get(row.edit_of, (None, None))
                out.append(Claimed(row, rcpt, chat_id, message_id))
            else:
                out.append(Claimed(row, rcpt, rcpt.chat_id if rcpt else None))
        return out, waiting

    async def _recipients(self, session: AsyncSession, ids: set[int]) -> dict[int, Recipient]:
        muted: dict[int, set[str]] = {}
        for account_id, kind in await session.execute(
            select(ReminderMute.account_id, ReminderMute.kind).where(
                ReminderMute.account_id.in_(ids)
            )
        ):
            muted.setdefault(account_id, set()).add(kind)
        default = self.services.settings.default_locale
        out = {}
        for tg, active in await session.execute(
            select(TelegramUser, Account.is_active)
            .join(Account, Account.id == TelegramUser.account_id)
            .where(TelegramUser.account_id.in_(ids))
        ):
            out[tg.account_id] = Recipient(
                chat_id=tg.chat_id or tg.id,
                locale=tg.locale or normalize_locale(tg.language_code) or default,
                active=bool(active),
                muted=frozenset(muted.get(tg.account_id, ())),
            )
        return out

    async def _edit_targets(
        self, session: AsyncSession, ids: set[int | None]
    ) -> dict[int, tuple[int | None, int | None]]:
        if not ids:
            return {}
        rows = await session.execute(
            select(_T.c.id, _T.c.chat_id, _T.c.message_id).where(_T.c.id.in_(ids))
        )
        return {r.id: (r.chat_id, r.message_id) for r in rows}

    async def _renew_lease(self) -> None:
        """Rows held longer than a lease (a hot chat, a long 429) keep their claim."""
        if not self._held or time.monotonic() - self._last_renew < self.lease.total_seconds() / 3:
            return
        self._last_renew = time.monotonic()
        await self._write(
            update(_T)
            .where(
                _T.c.id.in_([c.row.id for c in self._held]),
                _T.c.lease_owner == self.owner,
                _T.c.status == "sending",
            )
            .values(lease_until=self.services.clock.now() + self.lease)
        )

    # --- one row ---------------------------------------------------------------------------

    async def _process(self, item: Claimed) -> bool:
        """Send (or settle) one claimed row; False when it must be tried again right away."""
        row, rcpt = item.row, item.recipient
        now = self.services.clock.now()
        if rcpt is None or not rcpt.active:
            await self._finish(row, "unreachable", error="no bound chat")
            return True
        if row.deadline_at is not None and row.deadline_at <= now and row.edit_of is None:
            await self._finish(row, "expired")
            return True
        if row.kind in rcpt.muted and R.is_mutable(row.kind):
            await self._finish(row, "muted")
            return True
        if row.edit_of is not None and (item.chat_id is None or item.target_message_id is None):
            await self._finish(row, "skipped", error="nothing to edit")
            return True
        if row.kind in MERGED_KINDS:
            await self._merge(item)
        try:
            rendered = await self._render(row, Translator(rcpt.locale, self.services.settings.tz))
        except Exception as exc:  # a renderer's bug must not stop the other messages
            log.exception("outbox row %s (%s) failed to render", row.id, row.kind)
            await self._finish(row, "failed", error=f"render: {type(exc).__name__}")
            return True
        if isinstance(rendered, str):
            await self._finish(row, rendered)
            return True
        slot = await self.limiter.acquire(item.chat_id)
        try:
            message_id = await self._call(item, rendered)
        except TelegramRetryAfter as exc:
            # Counts against the rate; the chat is tried first again.
            metrics.record_429()
            await self.limiter.release(slot, item.chat_id, count_chat=False)
            log.warning("Telegram asked to wait %s s (row %s)", exc.retry_after, row.id)
            await self.limiter.hold(exc.retry_after)
            return False
        except TelegramForbiddenError:
            metrics.record_403()
            await self._done(item, slot)
            await self._blocked(item)
            return True
        except TelegramBadRequest as exc:
            await self._done(item, slot)
            await self._bad_request(item, exc)
            return True
        except (TelegramAPIError, OSError, TimeoutError) as exc:
            await self._done(item, slot)
            await self._retry_later(row, exc)
            return True
        except BaseException:
            await self._done(item, slot)
            raise
        await self._done(item, slot)
        metrics.record_sent()
        await self._finish(
            row,
            "sent",
            chat_id=item.chat_id if row.edit_of is None else None,
            message_id=message_id if row.edit_of is None else None,
        )
        return True

    async def _render(self, row: OutboxMessage, i18n: Translator) -> Rendered | str:
        """The message, or the row's final status: superseded (its subject moved on since it
        was queued) or skipped (its renderer found nothing to say)."""
        # A session of its own, closed before the request: nothing is held across the network.
        async with self.services.db.session() as session:
            ctx = self.services.ctx(session)
            if not await still_relevant(ctx, row):
                return "superseded"
            rendered = await render(ctx, row, i18n)
            return "skipped" if rendered is None else rendered

    async def _merge(self, item: Claimed) -> None:
        """The recipient's other due rows of this kind and subject become this one: one
        message with the count (the reminders a base gets for results sent one by one)."""
        row = item.row
        now = self.services.clock.now()
        async with self.services.db.engine.begin() as conn:
            merged = await conn.execute(
                update(_T)
                .where(
                    _T.c.account_id == row.account_id,
                    _T.c.kind == row.kind,
                    _T.c.subject == row.subject,
                    _T.c.id != row.id,
                    _T.c.status == "pending",
                    _due(now),
                )
                .values(status="superseded", last_error=f"merged into {row.id}")
                .returning(_T.c.deadline_at)
            )
            times = [t for (t,) in merged.all() if t is not None]
            if not times or row.deadline_at is None:
                return
            times.append(row.deadline_at)
            row.payload = {
                **(row.payload or {}),
                "from": min(times).isoformat(),
                "through": max(times).isoformat(),
            }
            await conn.execute(update(_T).where(_T.c.id == row.id).values(payload=row.payload))
        self.outcomes["superseded"] += len(times) - 1

    async def _call(self, item: Claimed, rendered: Rendered) -> int | None:
        assert item.chat_id is not None
        if item.row.edit_of is not None:
            assert item.target_message_id is not None
            await self.bot.edit_message_text(
                text=rendered.text,
                chat_id=item.chat_id,
                message_id=item.target_message_id,
                reply_markup=rendered.reply_markup,
            )
            return item.target_message_id
        message = await self.bot.send_message(
            item.chat_id, rendered.text, reply_markup=rendered.reply_markup
        )
        return message.message_id

    async def _done(self, item: Claimed, slot: object) -> None:
        await self.limiter.release(slot, item.chat_id)
        per_chat = self.limiter.per_chat
        self._account_ready[item.row.account_id] = time.monotonic() + per_chat

    # --- outcomes --------------------------------------------------------------------------

    async def _write(self, stmt: Any) -> int:
        """One statement in its own short transaction, straight on the engine (this runs once
        per message: the ORM session's bookkeeping would cost a third of the sender's time);
        retried like `Database.run` when the database reports a transient conflict."""
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            try:
                async with self.services.db.engine.begin() as conn:
                    result = await conn.execute(stmt)
                    return max(result.rowcount or 0, 0)
            except DBAPIError as exc:
                if attempt == WRITE_ATTEMPTS or not is_transient(exc):
                    raise
                await asyncio.sleep(0.05 * 2**attempt)
        raise AssertionError("unreachable")

    async def _finish(
        self,
        row: OutboxMessage,
        status: str,
        *,
        error: str | None = None,
        chat_id: int | None = None,
        message_id: int | None = None,
    ) -> None:
        values: dict[str, Any] = {
            "status": status,
            "lease_owner": None,
            "lease_until": None,
            "last_error": error,
        }
        if status == "sent":
            values["sent_at"] = self.services.clock.now()
            if chat_id is not None:
                values["chat_id"], values["message_id"] = chat_id, message_id

        await self._write(
            update(_T).where(_T.c.id == row.id, _T.c.lease_owner == self.owner).values(**values)
        )
        self.outcomes[status] += 1
        if status not in {"sent", "skipped", "superseded"}:
            log.info("outbox row %s (%s): %s %s", row.id, row.kind, status, error or "")

    async def _blocked(self, item: Claimed) -> None:
        """403: the user blocked the bot. Final for this row and the chat's other queued rows;
        a notice queued later is tried once more (the user may have come back)."""
        account_id = item.row.account_id
        error = "bot blocked by the user"
        await self._finish(item.row, "blocked", error=error)
        self._held = [c for c in self._held if c.row.account_id != account_id]

        self.outcomes["blocked"] += await self._write(
            update(_T)
            .where(
                _T.c.account_id == account_id,
                or_(
                    _T.c.status == "pending",
                    and_(_T.c.status == "sending", _T.c.lease_owner == self.owner),
                ),
            )
            .values(status="blocked", lease_owner=None, lease_until=None, last_error=error)
        )

    async def _bad_request(self, item: Claimed, exc: TelegramBadRequest) -> None:
        text = str(exc.message).lower()
        if item.row.edit_of is not None:
            if "not modified" in text:
                await self._finish(item.row, "sent")
                return
            if "not found" in text or "can't be edited" in text:
                await self._finish(item.row, "skipped", error="message to edit is gone")
                return
        await self._finish(item.row, "failed", error=f"400: {exc.message}"[:300])

    async def _retry_later(self, row: OutboxMessage, exc: BaseException) -> None:
        error = type(exc).__name__
        if row.attempts >= self.max_attempts:
            await self._finish(row, "failed", error=f"{error} after {row.attempts} attempts")
            return
        delay = min(BACKOFF_BASE_SECONDS * 2 ** max(row.attempts - 1, 0), BACKOFF_MAX_SECONDS)
        not_before = self.services.clock.now() + timedelta(seconds=delay)

        await self._write(
            update(_T)
            .where(_T.c.id == row.id, _T.c.lease_owner == self.owner)
            .values(
                status="pending",
                lease_owner=None,
                lease_until=None,
                not_before=not_before,
                last_error=error,
            )
        )
        self.outcomes["retry"] += 1
        log.warning("outbox row %s (%s) failed (%s); retry in %s s", row.id, row.kind, error, delay)


async def drain_once(services: Services, bot: Bot) -> int:
    """Send everything due now (what the background sender does continuously); returns the
    number of messages sent."""
    sender = OutboxSender(services, bot)
    try:
        return await sender.drain(until_idle=True)
    finally:
        await sender.limiter.close()
