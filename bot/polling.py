"""Long polling that loses no update.

aiogram's own polling confirms a batch to Telegram (the next getUpdates carries a higher offset)
before the handlers of that batch have finished, and does not wait for them on shutdown: a crash
or a restart loses whatever was in flight. Here every fetched batch is written to the inbox
table before the next getUpdates confirms it, and a row leaves the inbox once its handler has
finished. At start, what is still in the inbox (fetched before a crash) is handled first.

Delivery is therefore at least once: an update whose handler finished just before a crash can
be handled again. Handlers already meet repeats safely (a repeated press does no harm).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Iterable
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramAPIError, TelegramNetworkError
from aiogram.methods import GetUpdates
from aiogram.types import Update
from aiogram.utils.backoff import Backoff, BackoffConfig
from sqlalchemy import delete, select, update

from storage.crypto import FieldCipher
from storage.db import Database
from storage.models import InboxUpdate
from storage.upsert import insert_ignore
from workflow.clock import Clock

log = logging.getLogger(__name__)

INBOX_FIELD = "inbox_update"
MAX_REPLAYS = 3  # an update that keeps crashing the process is given up after this many starts
DONE_FLUSH_SECONDS = 0.05
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
                await self._persist(updates)
                offset = updates[-1].update_id + 1
                for item in updates:
                    await self._spawn(item)
        finally:
            stop.cancel()

    async def _persist(self, updates: Iterable[Update]) -> None:
        async with self.db.transaction() as session:
            for item in updates:
                await insert_ignore(
                    session,
                    InboxUpdate,
                    {
                        "update_id": item.update_id,
                        "payload_enc": self.cipher.encrypt(
                            INBOX_FIELD,
                            item.model_dump_json(exclude_none=True, by_alias=True),
                        ),
                        "received_at": self.clock.now(),
                        "replays": 0,
                    },
                    ["update_id"],
                )

    async def _replay(self) -> None:
        """Handle what a previous run fetched but did not finish."""
        async with self.db.transaction() as session:
            rows = list(
                (await session.scalars(select(InboxUpdate).order_by(InboxUpdate.update_id))).all()
            )
            given_up = [r.update_id for r in rows if r.replays >= MAX_REPLAYS]
            if given_up:
                log.error("giving up updates that failed %d restarts: %s", MAX_REPLAYS, given_up)
                await session.execute(
                    delete(InboxUpdate).where(InboxUpdate.update_id.in_(given_up))
                )
            pending = [r for r in rows if r.replays < MAX_REPLAYS]
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
            await self._spawn(Update.model_validate(payload, context={"bot": self.bot}))

    # --- handling -------------------------------------------------------------------------------

    async def _spawn(self, item: Update) -> None:
        await self._slots.acquire()
        task = asyncio.create_task(self._handle(item), name=f"update-{item.update_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _handle(self, item: Update) -> None:
        try:
            await self.dp.feed_update(self.bot, item)
        except asyncio.CancelledError:
            raise  # not finished: it stays in the inbox for the next start
        except Exception:  # the error handlers already ran; the loop must go on
            log.exception("update %s failed", item.update_id)
        finally:
            self._slots.release()
        self._done.append(item.update_id)

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
        while True:
            await asyncio.sleep(DONE_FLUSH_SECONDS)
            await self._flush_done()

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
