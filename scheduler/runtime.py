"""Starting and stopping the background jobs of a running bot: the periodic sweep (APScheduler)
and the outbox sender loop."""

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

from bot.services import Services
from scheduler.outbox import OutboxSender
from scheduler.sweeps import SweepConfig, run_sweep

log = logging.getLogger(__name__)

SWEEP_JOB = "sweep"
STOP_TIMEOUT = 10.0


@dataclass
class Background:
    scheduler: AsyncIOScheduler
    sender: OutboxSender
    sender_task: asyncio.Task[None]
    stop: asyncio.Event
    sweeps: set[asyncio.Task[None]]


def build_scheduler(
    services: Services, on_swept: Any = None, sweeps: set[asyncio.Task[None]] | None = None
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
            report = await run_sweep(services)
        except Exception:
            log.exception("sweep failed; the next one retries")
            return
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


async def start(services: Services, bot: Bot) -> Background:
    SweepConfig.of(services.settings)  # a bad offset setting stops the start, not a sweep
    sender = OutboxSender(services, bot)
    stop = asyncio.Event()
    sweeps: set[asyncio.Task[None]] = set()
    scheduler = build_scheduler(services, on_swept=sender.wake, sweeps=sweeps)
    scheduler.start()
    task = asyncio.create_task(sender.run(stop), name="outbox-sender")
    log.info(
        "scheduler started: sweep every %s s, sending at most %s messages/s",
        services.settings.sweep_interval_seconds,
        services.settings.outbox_rate_per_second,
    )
    return Background(scheduler, sender, task, stop, sweeps)


async def stop(handle: Background | None) -> None:
    if handle is None:
        return
    handle.scheduler.shutdown(wait=False)
    handle.stop.set()
    if handle.sweeps:
        await asyncio.wait(set(handle.sweeps), timeout=STOP_TIMEOUT)
    try:
        # The sender finishes the message in flight and gives its claimed rows back.
        await asyncio.wait_for(asyncio.shield(handle.sender_task), STOP_TIMEOUT)
    except TimeoutError:
        handle.sender_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await handle.sender_task
