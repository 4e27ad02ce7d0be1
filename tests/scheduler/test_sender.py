"""The outbox sender against the Bot API emulator: rate limits measured from the emulator's
receive times, 429 and 403, retries, leases, quiet hours, and a SIGKILL in the middle of a
drain; and the scheduler that runs it in a live bot."""

from __future__ import annotations

import asyncio
import base64
import itertools
import os
import signal
import sys
import time
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, insert, select, update

from bot.emulator.models import CallRecord
from scheduler import runtime
from scheduler.outbox import OutboxSender, drain_once
from storage.models import Account, OutboxMessage, TelegramUser
from tests.conftest import TEST_KEY
from tests.harness import BotHarness
from tests.scheduler.conftest import outbox
from workflow import reminders as R
from workflow.enums import Role

SH = ZoneInfo("Asia/Shanghai")
ROOT = Path(__file__).resolve().parents[2]
FIRST_ACCOUNT = 100_000
FIRST_CHAT = 5_000_000


async def people(app: BotHarness, n: int, *, start: int = 0) -> list[tuple[int, int]]:
    """`n` bound accounts with open chats: [(account_id, chat_id)]."""
    pairs = [(FIRST_ACCOUNT + i, FIRST_CHAT + i) for i in range(start, start + n)]
    async with app.db.transaction() as session:
        await session.execute(
            insert(Account),
            [
                {"id": a, "role": Role.TRAINEE, "display_name": f"u{a}", "is_active": True}
                for a, _ in pairs
            ],
        )
        await session.execute(
            insert(TelegramUser),
            [{"id": c, "chat_id": c, "account_id": a, "locale": "en"} for a, c in pairs],
        )
    for _, chat in pairs:
        app.emulator.state.open_chat({"id": chat, "is_bot": False, "first_name": "u"})
    return pairs


async def queue(app: BotHarness, rows: list[dict[str, Any]]) -> None:
    """Outbox rows of the test kind (rendered without reading the database)."""
    now = app.clock.now()
    defaults = {"kind": R.TEST, "subject": "test", "payload": {}, "status": "pending"}
    async with app.db.transaction() as session:
        await session.execute(
            insert(OutboxMessage),
            [
                {
                    **defaults,
                    "attempts": 0,
                    "created_at": now,
                    "dedupe_key": f"test|{i}|{now.isoformat()}|{row['account_id']}",
                    **row,
                }
                for i, row in enumerate(rows)
            ],
        )


def sends(app: BotHarness, method: str = "sendMessage") -> list[CallRecord]:
    return [c for c in app.emulator.calls_to(method) if c.status == 200]


def assert_within_limits(calls: list[CallRecord], rate: float, per_chat: float) -> float:
    """No second (any window [t, t+1)) holds more than `rate` requests, and no chat gets two
    within `per_chat` seconds: measured where Telegram measures, at the receiving end."""
    times = sorted(c.monotonic for c in calls)
    n = int(rate)
    tightest = min((times[i + n] - times[i] for i in range(len(times) - n)), default=1.0)
    assert tightest >= 1.0, f"{n + 1} requests within {tightest:.3f} s"
    by_chat: dict[Any, list[float]] = defaultdict(list)
    for call in calls:
        by_chat[call.chat_id].append(call.monotonic)
    for chat, stamps in by_chat.items():
        stamps.sort()
        gaps = [b - a for a, b in itertools.pairwise(stamps)]
        assert min(gaps, default=per_chat) >= per_chat, (chat, min(gaps))
    return tightest


async def statuses(app: BotHarness) -> dict[str, int]:
    async with app.db.transaction() as session:
        rows = await session.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        )
        return dict(rows.all())


# --- throughput and limits ---------------------------------------------------------------------


# The drain of this queue takes one to two minutes here on either backend (about 25 s of it at
# the 400/s limit); on a loaded machine longer. It is the limits that are checked, not the speed.
@pytest.mark.timeout(600)
async def test_a_burst_of_10000_keeps_both_rate_limits(app: BotHarness) -> None:
    """Production allows 25 messages/s; the burst runs at 400/s to keep the suite short. What is
    measured is compliance with the configured limits, from the emulator's receive times."""
    settings = app.services.settings
    settings.outbox_rate_per_second = 400
    settings.outbox_per_chat_interval_seconds = 1.0
    pairs = await people(app, 3_310)
    normal, hot = pairs[:3_300], pairs[3_300:]
    # 10 hot chats get 10 messages each, spread through the queue; 3,300 chats get 3 each.
    rows = [{"account_id": normal[i % 3_300][0]} for i in range(9_900)]
    for i in range(100):
        rows.insert(i * 100, {"account_id": hot[i % 10][0]})
    await queue(app, rows)
    started = time.monotonic()
    sent = await drain_once(app.services, app.bot)
    took = time.monotonic() - started
    calls = sends(app)
    assert sent == len(calls) == 10_000
    tightest = assert_within_limits(calls, rate=400, per_chat=1.0)
    assert await statuses(app) == {"sent": 10_000}
    async with app.db.transaction() as session:
        distinct = await session.scalar(
            select(
                func.count(func.distinct(OutboxMessage.chat_id * 1_000 + OutboxMessage.message_id))
            )
        )
    assert distinct == 10_000
    for _, chat in hot:
        assert len(app.emulator.messages(chat)) == 10
    print(
        f"\n10,000 messages in {took:.1f} s: {10_000 / took:.0f}/s against a limit of 400/s;"
        f" the busiest 401 requests spanned {tightest:.3f} s"
    )


async def test_notices_to_one_chat_all_arrive_a_second_apart(app: BotHarness) -> None:
    """Rows left out of a claim because their chat must wait are still sent by the same drain
    (claims of one row make each of them a claim of its own)."""
    app.services.settings.outbox_claim_size = 1
    (a, chat), (b, chat_b) = await people(app, 2)
    await queue(app, [{"account_id": a}] * 3 + [{"account_id": b}])
    assert await drain_once(app.services, app.bot) == 4
    assert len(app.emulator.messages(chat)) == 3 and len(app.emulator.messages(chat_b)) == 1
    assert_within_limits(sends(app), rate=25, per_chat=1.0)


async def test_a_429_is_waited_out_and_the_message_sent_once(app: BotHarness) -> None:
    pairs = await people(app, 3)
    await queue(app, [{"account_id": a} for a, _ in pairs])
    app.emulator.inject_failure(429, retry_after=1, method="sendMessage", times=1)
    assert await drain_once(app.services, app.bot) == 3
    calls = app.emulator.calls_to("sendMessage")
    assert [c.status for c in calls] == [429, 200, 200, 200]
    assert calls[1].monotonic - calls[0].monotonic >= 1.0
    assert calls[1].chat_id == calls[0].chat_id  # the same message, after the pause
    assert sorted(c.chat_id for c in calls[1:]) == [c for _, c in pairs]
    assert await statuses(app) == {"sent": 3}


async def test_a_blocked_chat_is_not_tried_again(app: BotHarness) -> None:
    (a_blocked, chat_blocked), (a_ok, chat_ok) = await people(app, 2)
    app.emulator.block_chat(chat_blocked)
    await queue(app, [{"account_id": a_blocked}] * 3 + [{"account_id": a_ok}] * 2)
    assert await drain_once(app.services, app.bot) == 2
    assert len([c for c in app.emulator.calls_to("sendMessage") if c.chat_id == chat_blocked]) == 1
    assert await statuses(app) == {"blocked": 3, "sent": 2}
    # Nothing is retried later either.
    app.clock.advance(hours=1)
    assert await drain_once(app.services, app.bot) == 0
    assert len([c for c in app.emulator.calls_to("sendMessage") if c.chat_id == chat_blocked]) == 1
    assert len(app.emulator.messages(chat_ok)) == 2


async def test_other_failures_are_retried_with_backoff_then_given_up(app: BotHarness) -> None:
    app.services.settings.outbox_max_attempts = 3
    (a, chat), (b, chat_b) = await people(app, 2)
    await queue(app, [{"account_id": a}, {"account_id": b}])
    app.emulator.inject_failure(500, method="sendMessage", chat_id=chat, times=1)
    app.emulator.inject_failure(502, method="sendMessage", chat_id=chat_b, times=10)
    assert await drain_once(app.services, app.bot) == 0
    row = (await outbox(app.db, account_id=a))[0]
    assert (row.status, row.attempts, row.last_error) == ("pending", 1, "TelegramServerError")
    assert row.not_before == app.clock.now() + timedelta(seconds=5)
    assert await drain_once(app.services, app.bot) == 0  # not before its time
    app.clock.advance(seconds=5)
    assert await drain_once(app.services, app.bot) == 1
    assert len(app.emulator.messages(chat)) == 1
    app.clock.advance(seconds=10)
    await drain_once(app.services, app.bot)  # the third attempt of b
    app.clock.advance(hours=1)
    await drain_once(app.services, app.bot)
    row_b = (await outbox(app.db, account_id=b))[0]
    assert (row_b.status, row_b.attempts) == ("failed", 3)
    assert len([c for c in app.emulator.calls_to("sendMessage") if c.chat_id == chat_b]) == 3


async def test_quiet_hours_and_nearest_deadline_first(app: BotHarness) -> None:
    pairs = await people(app, 7)
    night = datetime(2026, 7, 1, 23, 0, tzinfo=SH)
    app.clock.set(night)
    hours = timedelta(hours=1)
    await queue(
        app,
        [
            {"account_id": pairs[0][0]},  # waits
            {"account_id": pairs[1][0], "deadline_at": night + 13 * hours},  # waits
            {"account_id": pairs[2][0], "deadline_at": night + hours / 2},  # too late by 08:00
            {"account_id": pairs[3][0], "urgent": True},
            {"account_id": pairs[4][0], "deadline_at": night + 15 * hours},  # waits
            {"account_id": pairs[5][0], "deadline_at": night + 11 * hours},  # waits
            {"account_id": pairs[6][0], "deadline_at": night + hours / 4},  # too late by 08:00
        ],
    )
    assert await drain_once(app.services, app.bot) == 3
    order = [c.chat_id for c in sends(app)]
    assert order == [pairs[6][1], pairs[2][1], pairs[3][1]]
    app.clock.set(datetime(2026, 7, 2, 7, 59, tzinfo=SH))
    assert await drain_once(app.services, app.bot) == 0
    app.clock.set(datetime(2026, 7, 2, 8, 0, tzinfo=SH))
    assert await drain_once(app.services, app.bot) == 4
    order = [c.chat_id for c in sends(app)][3:]
    assert order == [pairs[5][1], pairs[1][1], pairs[4][1], pairs[0][1]]


async def test_rows_that_must_not_be_sent(app: BotHarness) -> None:
    pairs = await people(app, 5)
    now = app.clock.now()
    async with app.db.transaction() as session:
        await session.execute(
            update(TelegramUser)
            .where(TelegramUser.account_id == pairs[3][0])
            .values(account_id=None)
        )
        await session.execute(
            update(Account).where(Account.id == pairs[4][0]).values(is_active=False)
        )
        session.add(
            OutboxMessage(
                dedupe_key="mute", account_id=pairs[1][0], kind="digest_base", created_at=now
            )
        )
    from storage.models import ReminderMute

    async with app.db.transaction() as session:
        session.add(ReminderMute(account_id=pairs[1][0], kind="digest_base", muted_at=now))
        session.add(ReminderMute(account_id=pairs[2][0], kind=R.CONFIRM_CLOSING, muted_at=now))
    await queue(
        app,
        [
            {"account_id": pairs[0][0], "deadline_at": now - timedelta(seconds=1)},
            {"account_id": pairs[2][0], "kind": R.CONFIRM_CLOSING, "subject": "application:999"},
            {"account_id": pairs[3][0]},
            {"account_id": pairs[4][0]},
        ],
    )
    assert await drain_once(app.services, app.bot) == 0
    got = {r.account_id: (r.status, r.last_error) for r in await outbox(app.db)}
    assert got == {
        pairs[0][0]: ("expired", None),  # past its deadline
        pairs[1][0]: ("muted", None),  # a kind its recipient turned off
        pairs[2][0]: ("skipped", None),  # critical kinds ignore mutes; no such result
        pairs[3][0]: ("unreachable", "no bound chat"),
        pairs[4][0]: ("unreachable", "no bound chat"),
    }
    assert sends(app) == []


async def test_one_sender_sends_at_a_time_and_claims_never_overlap(app: BotHarness) -> None:
    """The rate limits are counted by a sender, so only the holder of the sender lease sends;
    and should two ever claim at once (a lease taken over), no row goes to both."""
    pairs = await people(app, 100)
    await queue(app, [{"account_id": a} for a, _ in pairs])
    first, second = OutboxSender(app.services, app.bot), OutboxSender(app.services, app.bot)
    claims = await asyncio.gather(
        *(
            app.db.run(lambda s, sender=sender: sender._claim(s, 60, set(), set()))
            for sender in (first, second)
        )
    )
    ids = [{c.row.id for c in claimed} for claimed, _ in claims]
    assert not ids[0] & ids[1] and len(ids[0] | ids[1]) == 100
    async with app.db.transaction() as session:  # give them back
        await session.execute(
            update(OutboxMessage).values(status="pending", lease_owner=None, lease_until=None)
        )
    stop = asyncio.Event()
    leader = asyncio.create_task(first.run(stop))
    await _until(lambda: asyncio.sleep(0, result=first.sent > 0), 5, "the first sender")
    assert await second.drain() == 0  # the first one holds the sender lease
    await _until(lambda: asyncio.sleep(0, result=first.sent == 100), 30, "the whole drain")
    stop.set()
    await leader
    assert len(sends(app)) == 100 and await statuses(app) == {"sent": 100}
    queue_more = [{"account_id": pairs[0][0], "dedupe_key": "after"}]
    await queue(app, queue_more)
    assert await second.drain() == 1  # the lease was given back when the first one stopped


async def test_a_row_is_claimed_again_only_when_its_lease_ran_out(app: BotHarness) -> None:
    (a, chat), (b, _) = await people(app, 2)
    now = app.clock.now()
    await queue(
        app,
        [
            {
                "account_id": a,
                "status": "sending",
                "lease_owner": "dead-sender",
                "lease_until": now - timedelta(seconds=1),
                "attempts": 1,
            },
            {
                "account_id": b,
                "status": "sending",
                "lease_owner": "live-sender",
                "lease_until": now + timedelta(seconds=30),
                "attempts": 1,
            },
        ],
    )
    assert await drain_once(app.services, app.bot) == 1
    assert [c.chat_id for c in sends(app)] == [chat]
    row_b = (await outbox(app.db, account_id=b))[0]
    assert (row_b.status, row_b.lease_owner) == ("sending", "live-sender")


async def test_an_edit_of_a_vanished_message_is_skipped(app: BotHarness) -> None:
    ((a, chat),) = await people(app, 1)
    message = await app.bot.send_message(chat, "old reminder")
    async with app.db.transaction() as session:
        for key, message_id in (("gone", 999), ("there", message.message_id)):
            target = OutboxMessage(
                dedupe_key=f"target-{key}",
                account_id=a,
                kind=R.CONFIRM_CLOSING,
                subject="application:1",
                status="sent",
                chat_id=chat,
                message_id=message_id,
            )
            session.add(target)
            await session.flush()
            session.add(
                OutboxMessage(
                    dedupe_key=f"edit-{key}",
                    account_id=a,
                    kind=R.TEST,
                    urgent=True,
                    edit_of=target.id,
                )
            )
    await drain_once(app.services, app.bot)
    edits = {r.dedupe_key: (r.status, r.last_error) for r in await outbox(app.db, kind=R.TEST)}
    assert edits == {
        "edit-gone": ("skipped", "message to edit is gone"),
        "edit-there": ("sent", None),
    }
    assert (
        app.emulator.messages(chat)[0].text
        == "🔔 This is a test reminder: reminders reach you here."
    )


# --- a crash in the middle of a drain ----------------------------------------------------------


def _sender_env(app: BotHarness, database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "BOT_TOKEN": app.emulator.token,
        "TELEGRAM_API_URL": app.emulator.url,
        "ENCRYPTION_KEY": base64.b64encode(TEST_KEY).decode(),
        "DATA_DIR": str(app.services.settings.data_dir),
        "OUTBOX_RATE_PER_SECOND": "100",
        "OUTBOX_LEASE_SECONDS": "2",
        "QUIET_HOURS_START": "00:00",  # the subprocess runs on the real clock, at any hour
        "QUIET_HOURS_END": "00:00",
        "LOG_LEVEL": "WARNING",
    }


async def _start_sender(env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "scheduler.sender_main", cwd=ROOT, env=env
    )


async def _until(check: Any, timeout: float, what: str) -> None:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


def test_the_sender_process_knows_every_features_renderers() -> None:
    from bot.notices import registered_kinds
    from scheduler.sender_main import register_renderers

    register_renderers()
    kinds = registered_kinds()
    assert {"result_acceptable", "base_result_accepted", R.CONFIRM_CLOSING} <= kinds


async def test_killing_the_sender_mid_drain_loses_nothing(
    app: BotHarness, database_url: str
) -> None:
    n = 300
    pairs = await people(app, n)
    # The subprocess runs on the real clock: rows created "now" by it.
    app.clock.set(datetime.now(SH) - timedelta(seconds=1))
    await queue(app, [{"account_id": a, "urgent": True} for a, _ in pairs])
    env = _sender_env(app, database_url)

    async def received(k: int) -> bool:
        return len(sends(app)) >= k

    first = await _start_sender(env)
    try:
        await _until(lambda: received(100), 60, "the first sender to send 100 messages")
        first.send_signal(signal.SIGKILL)
        await first.wait()
    finally:
        if first.returncode is None:
            first.kill()
    at_kill = len(sends(app))
    assert 100 <= at_kill < n, "killed in the middle of the drain"

    async def all_sent() -> bool:
        return (await statuses(app)).get("sent") == n

    second = await _start_sender(env)
    try:
        await _until(all_sent, 60, "the second sender to finish the drain")
    finally:
        second.send_signal(signal.SIGTERM)
        await asyncio.wait_for(second.wait(), 20)
    assert first.returncode == -signal.SIGKILL and second.returncode == 0
    per_chat = defaultdict(int)
    for call in sends(app):
        per_chat[call.chat_id] += 1
    assert set(per_chat) == {chat for _, chat in pairs}, "nothing lost"
    assert sum(per_chat.values()) - n <= 1, "at most the message in flight twice"
    assert await statuses(app) == {"sent": n}


# --- the scheduler in a running bot ------------------------------------------------------------


async def test_the_sweep_job_runs_late_jobs_once(app: BotHarness) -> None:
    """APScheduler's default 1 s misfire grace would skip a late run; ours runs it, once."""
    app.services.settings.sweep_interval_seconds = 1
    runs: list[float] = []
    scheduler = runtime.build_scheduler(app.services, on_swept=None)
    job = scheduler.get_job(runtime.SWEEP_JOB)
    assert (job.misfire_grace_time, job.coalesce, job.max_instances) == (None, True, 1)

    async def probe() -> None:
        runs.append(time.monotonic())

    job.modify(func=probe)
    scheduler.start()
    try:
        await _until(lambda: asyncio.sleep(0, result=len(runs) >= 1), 5, "the first run")
        time.sleep(3.2)  # the event loop is stuck: three runs come due meanwhile  # noqa: ASYNC251
        stuck_until = time.monotonic()
        await asyncio.sleep(0.3)
        late = [t for t in runs if t >= stuck_until]
        assert len(late) == 1, "the missed runs coalesce into one late run"
    finally:
        scheduler.shutdown(wait=False)


async def test_a_running_bot_sweeps_and_sends_in_the_background(app: BotHarness) -> None:
    settings = app.services.settings
    settings.sweep_interval_seconds = 3600
    ((a, chat),) = await people(app, 1)
    background = await runtime.start(app.services, app.bot)
    try:
        await queue(app, [{"account_id": a, "urgent": True}])
        background.sender.wake()

        async def delivered() -> bool:
            return len(app.emulator.messages(chat)) == 1

        await _until(delivered, 5, "the background sender")
    finally:
        await runtime.stop(background)
    assert background.sender_task.done()
    assert await statuses(app) == {"sent": 1}


async def test_a_stopped_sender_gives_its_claimed_rows_back(app: BotHarness) -> None:
    app.services.settings.outbox_per_chat_interval_seconds = 60
    ((a, chat),) = await people(app, 1)
    await queue(app, [{"account_id": a, "urgent": True}] * 3)
    sender = OutboxSender(app.services, app.bot)
    stop = asyncio.Event()
    task = asyncio.create_task(sender.run(stop))
    await _until(lambda: asyncio.sleep(0, result=sender.sent == 1), 5, "one message")
    stop.set()
    await asyncio.wait_for(task, 5)
    rows = await outbox(app.db)
    assert sorted((r.status, r.lease_owner) for r in rows) == [
        ("pending", None),
        ("pending", None),
        ("sent", None),
    ]
    assert len(app.emulator.messages(chat)) == 1
