"""The outbox sender's drain rate against its configured limit, through the Bot API emulator,
on SQLite and PostgreSQL.

    .venv/bin/python -m bench.drain_bench [--seconds 10] [--rates 25 100 400 0]
                                          [--per-chat 1] [--backends sqlite,postgresql]
                                          [--pg URL]

For each configured global rate (0 = no limit: what the sender can do at all) it queues about
`--seconds` worth of notices at that rate (5,000 without a limit), `--per-chat` per chat (the
chats' turns round-robin through the queue, as a sweep queues reminders of several kinds), plus
5 chats with 3 notices each, one after another in the queue; drains them with one sender; and
reports the rate achieved, the most requests the emulator received in any one second, and the
shortest gap between two messages to one chat (the per-chat limit is 1 s). With `--per-chat 3`
most chats wait for the per-chat limit while the sender claims: the shape of the test suite's
10,000-message burst (`--rates 400 --seconds 25 --per-chat 3`).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import platform
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert

from bench.cpu import CpuMeter
from bench.pg import database
from bot.app import build_bot
from bot.config import Settings
from bot.emulator import BotApiEmulator
from bot.fsm_storage import SqlStorage
from bot.services import Services
from scheduler.outbox import OutboxSender
from storage.crypto import FieldCipher
from storage.db import Database
from storage.models import Account, OutboxMessage, TelegramUser
from workflow import reminders as R
from workflow.clock import SystemClock
from workflow.enums import Role

HOT_CHATS, HOT_MESSAGES = 5, 3
UNLIMITED = 1_000_000.0


async def queue(db: Database, emulator: BotApiEmulator, messages: int, per_chat: int) -> None:
    plain = max(messages // per_chat, 1)
    chats = plain + HOT_CHATS
    now = datetime.now(UTC)
    async with db.transaction() as s:
        await s.execute(
            insert(Account),
            [
                {"id": i, "role": Role.TRAINEE, "display_name": "u", "is_active": True}
                for i in range(1, chats + 1)
            ],
        )
        await s.execute(
            insert(TelegramUser),
            [{"id": 10**6 + i, "chat_id": 10**6 + i, "account_id": i} for i in range(1, chats + 1)],
        )
        targets = [1 + n % plain for n in range(messages)]
        for k in range(HOT_CHATS):  # a hot chat's notices one after another in the queue
            at = (k + 1) * messages // (HOT_CHATS + 1)
            targets[at:at] = [plain + 1 + k] * HOT_MESSAGES
        await s.execute(
            insert(OutboxMessage),
            [
                {
                    "dedupe_key": f"bench|{n}",
                    "account_id": a,
                    "kind": R.TEST,
                    "subject": "bench",
                    "payload": {},
                    "urgent": True,
                    "status": "pending",
                    "attempts": 0,
                    "created_at": now,
                }
                for n, a in enumerate(targets)
            ],
        )
    for i in range(1, chats + 1):
        emulator.state.open_chat({"id": 10**6 + i, "is_bot": False, "first_name": "u"})


async def run(
    backend: str, rate: float, messages: int, per_chat: int, pg_url: str | None
) -> dict[str, float]:
    async with database(backend, pg_url) as db, BotApiEmulator() as emulator:
        await queue(db, emulator, messages, per_chat)
        settings = Settings(
            _env_file=None,
            bot_token=None,
            data_dir=Path(tempfile.gettempdir()),
            outbox_rate_per_second=rate or UNLIMITED,
            outbox_per_chat_interval_seconds=1.0,
        )
        clock = SystemClock()
        services = Services(
            settings, db, FieldCipher(os.urandom(32)), clock, SqlStorage(db, clock=clock)
        )
        bot = build_bot(emulator.token, emulator.url)
        meter = CpuMeter(db.engine)
        await db.dispose()  # connections from now on are counted
        cpu = meter.snapshot()
        started = time.monotonic()
        sent = await OutboxSender(services, bot).drain()
        took = time.monotonic() - started
        process_cpu, server_cpu = meter.since(cpu)
        await bot.session.close()
        calls = [c for c in emulator.calls_to("sendMessage") if c.status == 200]
        assert sent == len(calls) == messages + HOT_CHATS * HOT_MESSAGES, (sent, len(calls))
        stamps = sorted(c.monotonic for c in calls)
        busiest, j = 0, 0
        for i, t in enumerate(stamps):
            while stamps[j] <= t - 1.0:
                j += 1
            busiest = max(busiest, i - j + 1)
        by_chat: dict[object, list[float]] = defaultdict(list)
        for c in calls:
            by_chat[c.chat_id].append(c.monotonic)
        gaps = [b - a for ts in by_chat.values() for a, b in itertools.pairwise(ts)]
        return {
            "rate": sent / took,
            "busiest": busiest,
            "gap": min(gaps),
            "took": took,
            "cpu": process_cpu * 1000 / sent,
            "server_cpu": -1.0 if server_cpu is None else server_cpu * 1000 / sent,
        }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rates", type=float, nargs="*", default=[25.0, 100.0, 400.0, 0.0])
    parser.add_argument("--per-chat", type=int, default=1, help="notices per chat")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument(
        "--pg", default=os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
    )
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(
        f"{'backend':<11} {'limit/s':>8} {'msgs':>6} {'achieved/s':>11} {'max in 1 s':>11} "
        f"{'min chat gap':>13} {'took':>7} {'CPU ms/msg':>11} {'DB CPU ms/msg':>14}"
    )
    for rate in args.rates:
        messages = int(rate * args.seconds) if rate else 5_000
        for backend in args.backends.split(","):
            r = asyncio.run(run(backend, rate, messages, max(args.per_chat, 1), args.pg))
            limit = f"{rate:g}" if rate else "none"
            print(
                f"{backend:<11} {limit:>8} {messages + HOT_CHATS * HOT_MESSAGES:>6} "
                f"{r['rate']:>11.1f} {r['busiest']:>11.0f} {r['gap']:>12.3f}s {r['took']:>6.1f}s"
                f" {r['cpu']:>11.2f} "
                + (f"{r['server_cpu']:>14.2f}" if r["server_cpu"] >= 0 else f"{'-':>14}"),
                flush=True,
            )


if __name__ == "__main__":
    main()
