"""Several instances: two senders drain one outbox in parallel under one shared rate limit
(Redis), and one scheduler sweeps at a time (a PostgreSQL advisory lock), another taking over
when the holder's connection dies."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, text

from bot.app import build_bot
from scheduler import runtime
from scheduler.outbox import OutboxSender
from storage.models import OutboxMessage
from tests.conftest import redis_url_or_skip
from tests.harness import BotHarness
from tests.scheduler.test_sender import assert_within_limits, people, queue, sends, statuses


async def test_two_senders_drain_one_outbox_in_parallel_under_one_limit(app: BotHarness) -> None:
    settings = app.services.settings
    settings.redis_url = redis_url_or_skip()
    settings.outbox_rate_per_second = 40
    settings.outbox_per_chat_interval_seconds = 1.0
    settings.outbox_claim_size = 10
    pairs = await people(app, 120)
    # Two notices per chat: the per-chat interval must hold across the two senders too.
    await queue(app, [{"account_id": a, "urgent": True} for a, _ in pairs] * 2)
    bots = [build_bot(app.emulator.token, app.emulator.url) for _ in range(2)]
    senders = [OutboxSender(app.services, bot) for bot in bots]
    assert all(s.limiter.shared for s in senders)
    owners = {s.owner for s in senders}
    overlapping = 0
    done = asyncio.Event()

    async def watch() -> None:
        """Count the moments when both senders hold claimed rows at once."""
        nonlocal overlapping
        while not done.is_set():
            async with app.db.transaction() as session:
                holding = set(
                    (
                        await session.scalars(
                            select(OutboxMessage.lease_owner)
                            .where(OutboxMessage.status == "sending")
                            .distinct()
                        )
                    ).all()
                )
            overlapping += holding >= owners
            await asyncio.sleep(0.05)

    watcher = asyncio.create_task(watch())
    started = time.monotonic()
    try:
        counts = await asyncio.gather(*(s.drain(until_idle=True) for s in senders))
    finally:
        done.set()
        await watcher
        for s, bot in zip(senders, bots, strict=True):
            await s.limiter.close()
            await bot.session.close()
    took = time.monotonic() - started
    calls = sends(app)
    assert sum(counts) == len(calls) == 240
    assert min(counts) >= 40, f"both senders sent: {counts}"
    assert overlapping >= 3, "the two senders held claims at the same time"
    assert_within_limits(calls, rate=40, per_chat=1.0)
    assert await statuses(app) == {"sent": 240}
    per_chat = Counter(c.chat_id for c in calls)
    assert set(per_chat.values()) == {2}, "every row sent once"
    assert took >= 240 / 40 - 1.5, "together they stayed under the shared rate"


async def _until(check, timeout: float, what: str) -> float:  # type: ignore[no-untyped-def]  # noqa: ASYNC109
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < timeout, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)
    return time.monotonic() - started


async def test_one_scheduler_sweeps_and_another_takes_over_when_it_dies(app: BotHarness) -> None:
    if app.db.backend != "postgresql":
        pytest.skip("the advisory lock is PostgreSQL's; SQLite runs on one host")
    app.services.settings.sweep_interval_seconds = 3600  # only the first sweep and take-overs
    bots = [build_bot(app.emulator.token, app.emulator.url) for _ in range(2)]
    first = await runtime.start(app.services, bots[0])
    second = None
    try:
        await _until(lambda: first.heartbeat.last_sweep_at is not None, 10, "the first sweep")
        assert first.sweeping
        second = await runtime.start(app.services, bots[1])
        # The second's start-up sweep and at least one retry of the lock happen meanwhile.
        await asyncio.sleep(runtime.SWEEP_LOCK_RETRY_SECONDS + 1.5)
        assert second.heartbeat.last_sweep_at is None and not second.sweeping
        assert second.health()["last_sender_loop_at"] is not None

        # The first instance's lock connection dies (as when its process is killed).
        assert first.lock._conn is not None
        pid = await first.lock._conn.scalar(text("SELECT pg_backend_pid()"))
        async with app.db.engine.connect() as conn:
            await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            await conn.commit()
        took = await _until(lambda: second.heartbeat.last_sweep_at is not None, 60, "the take-over")
        assert took <= runtime.SWEEP_LOCK_RETRY_SECONDS + 5
        assert second.sweeping

        # The first one, when its next sweep comes, finds it lost the lock and does not sweep.
        swept_at = first.heartbeat.last_sweep_at
        first.scheduler.get_job(runtime.SWEEP_JOB).modify(next_run_time=datetime.now(UTC))
        await asyncio.sleep(1.0)
        assert first.heartbeat.last_sweep_at == swept_at and not first.sweeping
    finally:
        await runtime.stop(first)
        if second is not None:
            await runtime.stop(second)
        for bot in bots:
            await bot.session.close()
    async with app.db.transaction() as session:
        held = await session.scalar(
            select(func.count()).select_from(text("pg_locks")).where(text("locktype = 'advisory'"))
        )
    assert held == 0, "a stopped instance gives the lock back"
