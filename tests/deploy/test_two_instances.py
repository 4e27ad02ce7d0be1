"""Two bot instances as real processes (`zhupei run`, webhook intake) on one PostgreSQL database
and one Redis, behind one webhook URL served by a round-robin balancer (bench/balancer.py) that
the emulator's webhook delivery posts to. One instance is killed with SIGKILL mid-burst, while
a reminder season is being sent.

- Users register step by step (the crash test's walk, tests/crash/test_kill.py), each waiting
  for the bot's answer before the next step. Every user's transcript equals the walk of one user
  alone: no step lost, none answered twice, except the one message an instance may have had
  accepted by Telegram in the instant of its death before recording it (at most one per user:
  a user has one update in flight at a time).
- Reminders: two application periods close within a day; trainees with incomplete profiles get
  one reminder for each. Every outbox row is sent, and the emulator received each once (the
  one request in flight of the killed sender may arrive twice).
- The shared limit: at the receiving end, no second holds more reminders than
  OUTBOX_RATE_PER_SECOND for both senders together, and no chat gets two within a second.
- The scheduler: the first instance holds the sweep lock, the second does not sweep (its
  /metrics count no sweep) until the first is killed; then it takes the lock and sweeps, and
  the trainees added after the kill get their reminders from it.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import socket
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.engine import make_url

from bench.balancer import Balancer
from bot.emulator import BotApiEmulator
from storage.db import Database
from storage.models import (
    Account,
    Batch,
    BatchPersonnelType,
    InboxUpdate,
    OutboxMessage,
    TelegramUser,
    UpdateLog,
)
from tests.conftest import redis_url_or_skip
from tests.scheduler.test_sender import assert_within_limits
from tests.walks import (
    STEP_TIMEOUT,
    ZHUPEI,
    BotProcess,
    bot_environment,
    fresh_database,
    transcript,
    walk,
    without_repeats,
)
from workflow.enums import PersonnelType, Role

USERS = 24
RATE = 10  # OUTBOX_RATE_PER_SECOND of both senders together
FIRST_WAVE = 50  # trainees due for reminders before the kill (two reminders each)
SECOND_WAVE = 15  # added after the kill: only the instance that took over can sweep them
SECRET = "two-instances-secret"
REMINDER_BASE = 7_000_000  # account ids and chats of the reminder recipients


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def backend_or_skip() -> str:
    url = os.environ.get("DATABASE_URL")
    if not url or make_url(url).get_backend_name() != "postgresql":
        pytest.skip("several instances need PostgreSQL (DATABASE_URL=postgresql://…)")
    return redis_url_or_skip()


# --- the reminder season -----------------------------------------------------------------------


async def add_batches(db: Database, now: datetime) -> None:
    """Two application periods of the residency programme closing in 20 hours (the 1-day
    reminder is due), for two cohort years so that nobody's application covers both."""
    async with db.transaction() as session:
        for n, year in ((1, 2027), (2, 2028)):
            await session.execute(
                insert(Batch).values(
                    id=9000 + n,
                    program="residency",
                    name=f"第{n}批次",
                    cohort_year=year,
                    apply_start=now - timedelta(days=10),
                    apply_end=now + timedelta(hours=20),
                    confirm_start=now + timedelta(days=30),
                    confirm_end=now + timedelta(days=40),
                    lock_hours=12,
                    created_at=now - timedelta(days=11),
                )
            )
            await session.execute(
                insert(BatchPersonnelType).values(
                    batch_id=9000 + n, personnel_type=PersonnelType.SOCIAL
                )
            )


async def add_trainees(db: Database, ids: range, now: datetime) -> None:
    """Trainees registered a month ago, bound to a chat, with no profile yet."""
    async with db.transaction() as session:
        await session.execute(
            insert(Account),
            [
                {
                    "id": i,
                    "role": Role.TRAINEE,
                    "display_name": f"学员{i}",
                    "program": "residency",
                    "is_active": True,
                    "created_at": now - timedelta(days=30),
                }
                for i in ids
            ],
        )
        await session.execute(
            insert(TelegramUser), [{"id": i, "chat_id": i, "account_id": i} for i in ids]
        )


async def reminder_rows(db: Database) -> list[OutboxMessage]:
    async with db.transaction() as session:
        return list(
            (
                await session.scalars(
                    select(OutboxMessage).where(OutboxMessage.account_id >= REMINDER_BASE)
                )
            ).all()
        )


# --- the instances -----------------------------------------------------------------------------


async def get(url: str) -> tuple[int, str]:
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http,
            http.get(url) as response,
        ):
            return response.status, await response.text()
    except aiohttp.ClientError:
        return 0, ""


def sweeps_counted(metrics: str) -> float:
    found = re.search(r"^zhupei_sweep_seconds_count(?:\{[^}]*\})? (\S+)$", metrics, re.M)
    return float(found.group(1)) if found else 0.0


async def until(
    predicate: Callable[[], Any], seconds: float, what: str, *bots: BotProcess
) -> float:
    """Wait for `predicate` (sync or async); the time it took."""
    started = time.monotonic()
    while True:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return time.monotonic() - started
        for bot in bots:
            if bot.proc is not None and bot.proc.poll() is not None:
                raise AssertionError(f"an instance exited ({bot.proc.returncode}):\n{bot.log()}")
        assert time.monotonic() - started < seconds, f"{what}\n" + "\n".join(b.log() for b in bots)
        await asyncio.sleep(0.1)


# --- the test ----------------------------------------------------------------------------------


@pytest.mark.timeout(600)
async def test_two_instances_one_killed_mid_burst(tmp_path: Path) -> None:
    redis_url = backend_or_skip()
    bot_id = random.randint(10**8, 10**9)  # its own keys in a Redis other runs may share
    ports = [free_port(), free_port()]
    async with (
        fresh_database(tmp_path) as url,
        BotApiEmulator(
            token=f"{bot_id}:two-instances", processing_timeout=STEP_TIMEOUT
        ) as emulator,
        Balancer.of([f"http://127.0.0.1:{p}" for p in ports]) as balancer,
    ):
        env = bot_environment(
            emulator,
            url,
            REDIS_URL=redis_url,
            SHUTDOWN_GRACE_SECONDS="10",
            WEBHOOK_URL=f"{balancer.url}/telegram/webhook",
            WEBHOOK_SECRET=SECRET,
            WEBHOOK_HOST="127.0.0.1",
            # The season's notices go out whatever the hour of the run: no quiet hours.
            QUIET_HOURS_START="08:00",
            QUIET_HOURS_END="08:00",
            OUTBOX_RATE_PER_SECOND=str(RATE),
            OUTBOX_PER_CHAT_INTERVAL_SECONDS="1",
            OUTBOX_LEASE_SECONDS="10",
            OUTBOX_CLAIM_SIZE="5",
            SWEEP_INTERVAL_SECONDS="5",
            SWEEP_LOCK_RETRY_SECONDS="1",
        )
        upgrade = await asyncio.create_subprocess_exec(
            str(ZHUPEI), "db", "upgrade", env=env, stderr=asyncio.subprocess.PIPE
        )
        _, err = await upgrade.communicate()
        assert upgrade.returncode == 0, err.decode()
        db = Database(url)
        bots = [
            BotProcess(
                {**env, "WEBHOOK_PORT": str(port), "DATA_DIR": str(tmp_path / f"data{n}")},
                tmp_path / f"bot{n}.log",
            )
            for n, port in enumerate(ports)
        ]
        try:
            await run_scenario(emulator, balancer, db, bots, ports)
            (survivor,) = (b for b in bots if b.proc is not None and b.proc.poll() is None)
            assert survivor.terminate(timeout=30) == 0, survivor.log()  # SIGTERM: a clean exit
        finally:
            for bot in bots:
                if bot.proc is not None and bot.proc.poll() is None:
                    bot.proc.kill()
                    bot.proc.wait(timeout=10)
            await db.dispose()
        assert not emulator.violations, emulator.violations


async def run_scenario(
    emulator: BotApiEmulator,
    balancer: Balancer,
    db: Database,
    bots: list[BotProcess],
    ports: list[int],
) -> None:
    metrics = [f"http://127.0.0.1:{p}/metrics" for p in ports]
    health = [f"http://127.0.0.1:{p}/healthz" for p in ports]

    # Both start at once; one of them takes the sweep lock and sweeps, the other does not.
    for bot in bots:
        bot.start()
    for url in health:
        await until(lambda url=url: healthy(url), 180, "an instance is not up", *bots)
    await until(lambda: len(emulator.calls_to("setWebhook")) == 2, 30, "no setWebhook", *bots)
    await until(
        lambda: any("runs the sweeps now" in b.log() for b in bots), 30, "no sweep lock", *bots
    )
    holders = [n for n, b in enumerate(bots) if "runs the sweeps now" in b.log()]
    assert len(holders) == 1, holders
    dead, alive = holders[0], 1 - holders[0]
    first, second = bots[dead], bots[alive]
    await until(lambda: sweeps_counted_at(metrics[dead]), 30, "the first sweep", first)

    # The walk of one user alone: what every user's transcript must be.
    model = emulator.user(5_000_000, language_code="zh-hans", first_name="T")
    lengths = await walk(emulator, model, 0, None)
    expected = transcript(emulator, model.chat_id)
    assert "注册完成" in "".join(expected), expected

    # The season: due as soon as the next sweep looks.
    now = datetime.now(UTC)
    await add_batches(db, now)
    first_wave = range(REMINDER_BASE, REMINDER_BASE + FIRST_WAVE)
    second_wave = range(first_wave.stop, first_wave.stop + SECOND_WAVE)
    for i in [*first_wave, *second_wave]:
        emulator.state.open_chat(emulator.user(i, language_code="zh-hans").api)
    await add_trainees(db, first_wave, now)

    users = [
        emulator.user(5_000_001 + i, language_code="zh-hans", first_name="T") for i in range(USERS)
    ]
    walks = [asyncio.create_task(walk(emulator, u, i + 1, lengths)) for i, u in enumerate(users)]
    total = USERS * len(lengths)
    reminder_chats = set(first_wave) | set(second_wave)

    def progress() -> int:
        return sum(
            sum(1 for n in lengths if len(transcript(emulator, u.chat_id)) >= n) for u in users
        )

    def reminders_received() -> list[Any]:
        return [
            c
            for c in emulator.calls_to("sendMessage")
            if c.chat_id in reminder_chats and c.status == 200
        ]

    killed_at = time.monotonic()
    try:
        # Mid-burst, with the season being sent by both senders: the first instance dies.
        await until(lambda: progress() >= 0.4 * total, 120, "the burst stalled", *bots)
        await until(lambda: reminders_received(), 60, "no reminders sent", *bots)
        served_before = [u.requests for u in balancer.upstreams]
        sent_before = len(reminders_received())
        status, body = await get(metrics[alive])
        assert status == 200 and sweeps_counted(body) == 0, "the other one swept too"
        first.kill()
        killed_at = time.monotonic()
        await add_trainees(db, second_wave, datetime.now(UTC))
        took_over = await until(
            lambda: sweeps_counted_at(metrics[alive]), 60, "no take-over of the sweeps", second
        )

        await asyncio.wait_for(asyncio.gather(*walks), 400)
        expected_rows = 2 * (FIRST_WAVE + SECOND_WAVE)

        async def all_sent() -> bool:
            rows = await reminder_rows(db)
            return len(rows) == expected_rows and all(r.status == "sent" for r in rows)

        await until(all_sent, 90, "reminders not all sent", second)
    except BaseException:
        for task in walks:
            task.cancel()
        rows = await reminder_rows(db)
        print(
            f"outbox: {Counter((r.status, r.last_error) for r in rows)}, "
            f"received: {len(reminders_received())}, progress: {progress()}/{total}"
        )
        print(stuck_users(emulator, users, lengths, killed_at))
        raise
    await asyncio.sleep(2.0)  # anything answered twice would show by now
    print(
        f"killed after {progress_share(served_before)} requests, {sent_before} reminders sent; "
        f"sweeps taken over in {took_over:.1f} s"
    )

    # Both instances served the burst; the balancer moved off the dead one.
    assert min(served_before) > 0, served_before
    assert balancer.upstreams[dead].refused + balancer.upstreams[dead].broken > 0

    # Every step answered once.
    repeated = Counter()
    for user in users:
        seen, again = without_repeats(transcript(emulator, user.chat_id))
        assert seen == expected, (user.user_id, second.log())
        repeated[user.user_id] = again
    print(f"messages repeated after the kill: {sum(repeated.values())}")
    assert max(repeated.values()) <= 1, repeated
    async with db.transaction() as session:
        handled = await session.scalar(select(func.count()).select_from(UpdateLog))
        inbox = await session.scalar(select(func.count()).select_from(InboxUpdate))
        owed = await session.scalar(
            select(func.count()).select_from(UpdateLog).where(UpdateLog.replies_enc.is_not(None))
        )
        accounts = await session.scalar(
            select(func.count()).select_from(Account).where(Account.id < REMINDER_BASE)
        )
    submitted = len(emulator.state.updates.records)
    assert (handled, inbox, owed) == (submitted, 0, 0)
    assert emulator.state.updates.deliverable() == []
    assert accounts == USERS + 1  # every registration once

    # Every reminder once; the season's later part swept by the survivor.
    rows = await reminder_rows(db)
    assert {r.kind for r in rows} == {"reminder_apply_profile"}
    per_chat = Counter(r.chat_id for r in rows)
    assert set(per_chat) == reminder_chats and set(per_chat.values()) == {2}
    received = reminders_received()
    by_chat = Counter(c.chat_id for c in received)
    extra = sum(by_chat.values()) - len(rows)
    print(f"reminders: {len(rows)} rows, {len(received)} received ({extra} repeated)")
    assert all(by_chat[c] >= 2 for c in reminder_chats), "a reminder was lost"
    assert extra <= 1, by_chat.most_common(3)  # the one request in flight at the kill
    late = [c for c in received if c.chat_id in set(second_wave)]
    assert late and min(c.monotonic for c in late) > killed_at
    assert_within_limits(received, rate=RATE, per_chat=1.0)

    # The survivor answers its health check; the dead one is gone.
    assert (await get(health[alive]))[0] == 200
    assert (await get(health[dead]))[0] == 0


def stuck_users(
    emulator: BotApiEmulator, users: list[Any], lengths: list[int], killed_at: float
) -> str:
    """For a failure: the deliveries of every update of the users not done, in seconds from
    the kill."""
    lines = []
    for user in users:
        got = len(transcript(emulator, user.chat_id))
        if got >= lengths[-1]:
            continue
        lines.append(f"user {user.user_id}: {got} of {lengths[-1]} calls")
        for record in emulator.state.updates.records.values():
            if record.chat_id != user.chat_id:
                continue
            tries = [
                f"{d.status}@{d.started - killed_at:+.1f}..{d.ended - killed_at:+.1f}"
                for d in emulator.state.webhook_log
                if d.update_id == record.update_id
            ]
            lines.append(
                f"  update {record.update_id} queued {record.enqueued_at - killed_at:+.1f}: "
                + " ".join(tries)
            )
    return "\n".join(lines)


def progress_share(served: list[int]) -> str:
    return " + ".join(str(n) for n in served)


async def healthy(url: str) -> bool:
    return (await get(url))[0] == 200


async def sweeps_counted_at(url: str) -> bool:
    status, body = await get(url)
    return status == 200 and sweeps_counted(body) > 0
