"""Long polling that loses no update.

aiogram's own polling confirms a batch to Telegram (the next getUpdates carries a higher offset)
before the handlers of that batch have finished, and does not wait for them on shutdown: a crash
or a restart loses whatever was in flight. Here every fetched batch is written to the inbox
table before the next getUpdates confirms it, and a row leaves the inbox once its handler has
finished. At start, what is still in the inbox (fetched before a crash) is handled first.

An update runs once: its handler's changes commit with its row in `update_log` (bot/unit.py),
so an update found in the inbox or fetched again after a crash whose effect is already committed
is not handled again; the replies it owed are sent instead. A batch is confirmed to Telegram by
the next getUpdates, issued as soon as the batch is stored (handlers wait for a free slot on
their own), and once more before the process exits on SIGTERM.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from datetime import timedelta
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramAPIError, TelegramNetworkError
from aiogram.methods import GetUpdates
from aiogram.types import Update
from aiogram.utils.backoff import Backoff, BackoffConfig
from sqlalchemy import delete, select, update

from bot.services import Services
from bot.unit import deliver_owed, purge_log, tidy_reply_marks
from storage.crypto import FieldCipher
from storage.db import Database
from storage.models import InboxUpdate, UpdateLog
from storage.upsert import dialect_insert
from workflow.clock import Clock

log = logging.getLogger(__name__)

INBOX_FIELD = "inbox_update"
MAX_REPLAYS = 3  # an update that keeps crashing the process is given up after this many starts
DONE_FLUSH_SECONDS = 0.05
RETRY_SECONDS = 5.0
OWED_EVERY = 100  # ticks: owed replies whose time has come, every 5 s
PURGE_EVERY = 72_000  # ticks: the update log forgets old updates, every hour
BACKOFF = BackoffConfig(min_delay=1.0, max_delay=30.0, factor=1.5, jitter=0.1)


class DurablePolling:
    def __init__(
        self,
        dp: Dispatcher,
        bot: Bot,
        db: Database,
        clock: Clock,
        cipher: FieldCipher,
        *,
        concurrency: int = 100,
        allowed_updates: list[str] | None = None,
        poll_timeout: int = 25,
        drain_timeout: float = 30.0,
    ) -> None:
        self.dp, self.bot, self.db, self.clock, self.cipher = dp, bot, db, clock, cipher
        self.allowed_updates = allowed_updates
        self.poll_timeout = poll_timeout
        self.drain_timeout = drain_timeout
        self.started = asyncio.Event()
        self._stop = asyncio.Event()
        self._slots = asyncio.Semaphore(concurrency)
        self._tasks: set[asyncio.Task[None]] = set()
        self._done: list[int] = []
        self._unconfirmed = False
        self.services: Services = dp["services"]

    def stop(self) -> None:
        self._stop.set()

    async def run(self) -> None:
        """Poll until `stop()`; then wait for the handlers in flight and return."""
        workflow_data = {"dispatcher": self.dp, "bots": [self.bot], **self.dp.workflow_data}
        await self.dp.emit_startup(bot=self.bot, **workflow_data)
        flusher = asyncio.create_task(self._flush_done_forever(), name="inbox-done-flusher")
        try:
            await self._replay()
            self.started.set()
            await self._fetch_until_stopped()
        finally:
            await self._drain()
            flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await flusher
            await self._flush_done()
            await self.dp.emit_shutdown(bot=self.bot, **workflow_data)

    # --- fetching -------------------------------------------------------------------------------

    async def _fetch_until_stopped(self) -> None:
        backoff = Backoff(config=BACKOFF)
        offset: int | None = None
        stop = asyncio.create_task(self._stop.wait())
        try:
            while not self._stop.is_set():
                call = GetUpdates(
                    offset=offset, timeout=self.poll_timeout, allowed_updates=self.allowed_updates
                )
                fetch = asyncio.create_task(self.bot(call, request_timeout=self.poll_timeout + 15))
                self._unconfirmed = False  # this call confirms what came before
                try:
                    await asyncio.wait({fetch, stop}, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    if not fetch.done():
                        # Stopping (or cancelled): what this call would have returned is not
                        # confirmed yet, so Telegram delivers it again to the next start.
                        fetch.cancel()
                        with contextlib.suppress(asyncio.CancelledError, TelegramAPIError):
                            await fetch
                if fetch.cancelled():
                    return
                try:
                    updates: list[Update] = fetch.result()
                except (TelegramNetworkError, TelegramAPIError) as exc:
                    log.warning("getUpdates failed (%s); retrying", type(exc).__name__)
                    await backoff.asleep()
                    continue
                backoff.reset()
                if not updates:
                    continue
                fresh = await self._persist(updates)
                offset = updates[-1].update_id + 1
                self._unconfirmed = True
                for item in fresh:
                    self._spawn(item)
        finally:
            stop.cancel()
            if offset is not None and self._unconfirmed:
                await self._confirm(offset)

    async def _confirm(self, offset: int) -> None:
        """Tell Telegram the last stored batch is ours before stopping (else it is delivered
        again, and meets the update log)."""
        with contextlib.suppress(TelegramAPIError, asyncio.TimeoutError):
            await self.bot(GetUpdates(offset=offset, timeout=0, limit=1), request_timeout=5)

    async def _persist(self, updates: list[Update]) -> list[Update]:
        """Store the batch; returns the updates that are new (neither stored nor handled)."""
        ids = [item.update_id for item in updates]
        async with self.db.transaction() as session:
            handled = set(
                (
                    await session.scalars(
                        select(UpdateLog.update_id).where(UpdateLog.update_id.in_(ids))
                    )
                ).all()
            )
            fresh = [item for item in updates if item.update_id not in handled]
            if not fresh:
                return []
            now = self.clock.now()
            stmt = (
                dialect_insert(session)(InboxUpdate.__table__)
                .values(
                    [
                        {
                            "update_id": item.update_id,
                            "payload_enc": self.cipher.encrypt(
                                INBOX_FIELD,
                                item.model_dump_json(exclude_none=True, by_alias=True),
                            ),
                            "received_at": now,
                            "replays": 0,
                        }
                        for item in fresh
                    ]
                )
                .on_conflict_do_nothing(index_elements=["update_id"])
                .returning(InboxUpdate.update_id)
            )
            inserted = set((await session.execute(stmt)).scalars().all())
        return [item for item in fresh if item.update_id in inserted]

    async def _replay(self) -> None:
        """Handle what a previous run fetched but did not finish, and send what it owed."""
        await tidy_reply_marks(self.services)
        await deliver_owed(self.services, self.bot, everything=True)
        async with self.db.transaction() as session:
            rows = list(
                (await session.scalars(select(InboxUpdate).order_by(InboxUpdate.update_id))).all()
            )
            handled = set(
                (
                    await session.scalars(
                        select(UpdateLog.update_id).where(
                            UpdateLog.update_id.in_([r.update_id for r in rows])
                        )
                    )
                ).all()
            )
            given_up = [r.update_id for r in rows if r.replays >= MAX_REPLAYS]
            if given_up:
                log.error("giving up updates that failed %d restarts: %s", MAX_REPLAYS, given_up)
            if given_up or handled:
                await session.execute(
                    delete(InboxUpdate).where(InboxUpdate.update_id.in_([*given_up, *handled]))
                )
            pending = [r for r in rows if r.replays < MAX_REPLAYS and r.update_id not in handled]
            if pending:
                await session.execute(
                    update(InboxUpdate)
                    .where(InboxUpdate.update_id.in_([r.update_id for r in pending]))
                    .values(replays=InboxUpdate.replays + 1)
                )
        if pending:
            log.warning("handling %d updates left over from the previous run", len(pending))
        for row in pending:
            payload = json.loads(self.cipher.decrypt(INBOX_FIELD, row.payload_enc))
            self._spawn(Update.model_validate(payload, context={"bot": self.bot}))

    # --- handling -------------------------------------------------------------------------------

    def _spawn(self, item: Update) -> None:
        """Start the update's task; it waits for a free slot itself, so fetching (and with it
        the confirmation of the batch) never waits for handlers."""
        task = asyncio.create_task(self._handle(item), name=f"update-{item.update_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _handle(self, item: Update, attempt: int = 1) -> None:
        async with self._slots:
            try:
                await self.dp.feed_update(self.bot, item)
            except asyncio.CancelledError:
                raise  # not finished: it stays in the inbox for the next start
            except Exception:
                # Only what the error handlers left: the database failed. The update stays
                # in the inbox; it is tried again in a while, and at the next start.
                log.exception("update %s failed (attempt %d)", item.update_id, attempt)
            else:
                self._done.append(item.update_id)
                return
        if attempt < MAX_REPLAYS and not self._stop.is_set():
            await asyncio.sleep(RETRY_SECONDS * attempt)
            self._spawn_retry(item, attempt + 1)

    def _spawn_retry(self, item: Update, attempt: int) -> None:
        task = asyncio.create_task(self._handle(item, attempt), name=f"update-{item.update_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _drain(self) -> None:
        if not self._tasks:
            return
        _, pending = await asyncio.wait(set(self._tasks), timeout=self.drain_timeout)
        for task in pending:
            task.cancel()
        if pending:
            log.warning(
                "%d updates were still running at shutdown; kept for the next start", len(pending)
            )
            await asyncio.gather(*pending, return_exceptions=True)

    async def _flush_done_forever(self) -> None:
        ticks = 0
        while True:
            await asyncio.sleep(DONE_FLUSH_SECONDS)
            await self._flush_done()
            ticks += 1
            try:
                if ticks % OWED_EVERY == 0:
                    await deliver_owed(self.services, self.bot)
                if ticks % PURGE_EVERY == 0:
                    keep = timedelta(hours=self.services.settings.update_log_keep_hours)
                    await purge_log(self.services, keep)
            except Exception:
                log.exception("sending owed replies failed; trying again later")

    async def _flush_done(self) -> None:
        if not self._done:
            return
        done, self._done = self._done, []
        try:
            async with self.db.transaction() as session:
                await session.execute(delete(InboxUpdate).where(InboxUpdate.update_id.in_(done)))
        except BaseException:  # cancelled or failed: keep them for the next flush
            self._done.extend(done)
            raise


async def run_polling(
    dp: Dispatcher, bot: Bot, db: Database, clock: Clock, cipher: FieldCipher, **options: Any
) -> None:
    """Poll until SIGINT/SIGTERM."""
    import signal

    polling = DurablePolling(dp, bot, db, clock, cipher, **options)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, polling.stop)
    await polling.run()
