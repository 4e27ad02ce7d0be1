"""Starting and stopping the background jobs of a running bot: the periodic sweep (APScheduler)
and the outbox sender loop.

One instance sweeps at a time. On PostgreSQL the sweeping instance holds a session-level
advisory lock on a connection of its own; the others try to take it every few seconds, and
take over when the holder dies (its connection closes and PostgreSQL releases the lock). On
SQLite (one host) every process sweeps, as two sweeps at once enqueue once.

`Background.health()` is the heartbeat a health check reads: the last successful sweep and the
last turn of the sender's loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiogram import Bot
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.services import Services
from scheduler.outbox import OutboxSender
from scheduler.sweeps import SweepConfig, run_sweep

log = logging.getLogger(__name__)

SWEEP_JOB = "sweep"
STOP_TIMEOUT = 10.0
SWEEP_LOCK_KEY = 0x7A68_7570  # "zhup": the advisory lock of the instance that sweeps
SWEEP_LOCK_RETRY_SECONDS = 5.0  # the default of the `sweep_lock_retry_seconds` setting


class SweepLock:
    """Whether this instance is the one that sweeps. On PostgreSQL `pg_try_advisory_lock` on a
    dedicated connection, held for as long as the connection lives; elsewhere always held."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.shared = services.db.backend == "postgresql"
        self._conn: AsyncConnection | None = None

    @property
    def held(self) -> bool:
        return not self.shared or self._conn is not None

    async def acquire(self) -> bool:
        """Take the lock if it is free, or check that it is still held; True while held."""
        if not self.shared:
            return True
        if self._conn is not None:
            try:
                await self._conn.execute(text("SELECT 1"))
                return True
            except Exception:  # the connection broke: PostgreSQL released the lock
                log.warning("lost the sweep lock's connection; another instance may sweep now")
                await self._drop()
        conn = await self.services.db.engine.connect()
        try:
            taken = await conn.scalar(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": SWEEP_LOCK_KEY}
            )
            await conn.commit()  # the lock is the session's; no transaction stays open
        except Exception:
            await conn.close()
            raise
        if not taken:
            await conn.close()
            return False
        self._conn = conn
        log.info("this instance runs the sweeps now")
        return True

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.invalidate()

    async def release(self) -> None:
        if self._conn is None:
            return
        with contextlib.suppress(Exception):
            await self._conn.execute(
                text("SELECT pg_advisory_unlock(:key)"), {"key": SWEEP_LOCK_KEY}
            )
            await self._conn.commit()
        conn, self._conn = self._conn, None
        with contextlib.suppress(Exception):
            await conn.close()


@dataclass
class Heartbeat:
    last_sweep_at: datetime | None = None  # wall clock (UTC) of the last successful sweep


@dataclass
class Background:
    scheduler: AsyncIOScheduler
    sender: OutboxSender
    sender_task: asyncio.Task[None]
    stop: asyncio.Event
    sweeps: set[asyncio.Task[None]]
    lock: SweepLock
    heartbeat: Heartbeat
    lock_task: asyncio.Task[None] | None = None

    @property
    def sweeping(self) -> bool:
        """This instance holds the sweep lock."""
        return self.lock.held

    def health(self) -> dict[str, Any]:
        """For a health check: when the last sweep succeeded (None on an instance that does
        not sweep) and when the sender's loop last turned."""
        return {
            "sweeping": self.sweeping,
            "last_sweep_at": self.heartbeat.last_sweep_at,
            "last_sender_loop_at": self.sender.last_loop_at,
        }


def build_scheduler(
    services: Services,
    on_swept: Any = None,
    sweeps: set[asyncio.Task[None]] | None = None,
    *,
    lock: SweepLock | None = None,
    heartbeat: Heartbeat | None = None,
) -> AsyncIOScheduler:
    """An in-memory scheduler with the sweep job. The job carries no data: it re-reads the
    database each time.

    APScheduler's default misfire grace time is 1 s: a run that starts later than that (a busy
    event loop, a suspended laptop) is silently skipped. Here a late run always runs
    (`misfire_grace_time=None`), runs once however many were missed (`coalesce`), and never
    overlaps itself (`max_instances=1`).

    APScheduler's shutdown cancels a running job; a sweep runs in a task of its own (listed in
    `sweeps`) that the job only waits for, so stopping the bot lets it finish its transaction."""
    running = sweeps if sweeps is not None else set()
    scheduler = AsyncIOScheduler(
        timezone=services.settings.tz,
        job_defaults={"misfire_grace_time": None, "coalesce": True, "max_instances": 1},
    )

    async def sweep_once() -> None:
        try:
            if lock is not None and not await lock.acquire():
                return  # another instance sweeps
            report = await run_sweep(services)
        except Exception:
            log.exception("sweep failed; the next one retries")
            return
        if heartbeat is not None:
            heartbeat.last_sweep_at = datetime.now(UTC)
        if on_swept is not None and report.enqueued:
            on_swept()

    async def sweep() -> None:
        task = asyncio.create_task(sweep_once(), name="sweep")
        running.add(task)
        task.add_done_callback(running.discard)
        with contextlib.suppress(asyncio.CancelledError):  # shutdown: stop() waits for it
            await asyncio.shield(task)

    scheduler.add_job(
        sweep,
        IntervalTrigger(seconds=services.settings.sweep_interval_seconds),
        id=SWEEP_JOB,
        next_run_time=datetime.now(UTC),  # once at start, then every interval
        misfire_grace_time=None,
        coalesce=True,
        max_instances=1,
    )
    return scheduler


async def _take_over(
    scheduler: AsyncIOScheduler,
    lock: SweepLock,
    stop: asyncio.Event,
    every: float = SWEEP_LOCK_RETRY_SECONDS,
) -> None:
    """On the instances that do not sweep: try the lock every few seconds; once taken, sweep
    at once (the holder died: its sweeps are late)."""
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)
            return
        if lock.held:
            continue  # checked again at each sweep
        try:
            if await lock.acquire():
                job = scheduler.get_job(SWEEP_JOB)
                if job is not None:
                    job.modify(next_run_time=datetime.now(UTC))
        except Exception:
            log.exception("could not try the sweep lock; trying again")


async def start(services: Services, bot: Bot) -> Background:
    SweepConfig.of(services.settings)  # a bad offset setting stops the start, not a sweep
    sender = OutboxSender(services, bot)
    stop = asyncio.Event()
    sweeps: set[asyncio.Task[None]] = set()
    lock, heartbeat = SweepLock(services), Heartbeat()
    scheduler = build_scheduler(
        services, on_swept=sender.wake, sweeps=sweeps, lock=lock, heartbeat=heartbeat
    )
    scheduler.start()
    task = asyncio.create_task(sender.run(stop), name="outbox-sender")
    lock_task = None
    if lock.shared:
        every = services.settings.sweep_lock_retry_seconds
        lock_task = asyncio.create_task(_take_over(scheduler, lock, stop, every), name="sweep-lock")
    log.info(
        "scheduler started: sweep every %s s, sending at most %s messages/s%s",
        services.settings.sweep_interval_seconds,
        services.settings.outbox_rate_per_second,
        " (shared through Redis)" if sender.limiter.shared else "",
    )
    return Background(scheduler, sender, task, stop, sweeps, lock, heartbeat, lock_task)


async def stop(handle: Background | None) -> None:
    if handle is None:
        return
    handle.scheduler.shutdown(wait=False)
    handle.stop.set()
    if handle.sweeps:
        await asyncio.wait(set(handle.sweeps), timeout=STOP_TIMEOUT)
    if handle.lock_task is not None:
        await asyncio.wait({handle.lock_task}, timeout=STOP_TIMEOUT)
    await handle.lock.release()
    try:
        # The sender finishes the message in flight and gives its claimed rows back.
        await asyncio.wait_for(asyncio.shield(handle.sender_task), STOP_TIMEOUT)
    except TimeoutError:
        handle.sender_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await handle.sender_task
