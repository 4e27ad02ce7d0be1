"""Updates per second and latency through the Bot API emulator, for a handler that only replies
(`/ping`) and one that writes a row and dialog state (`/note N`), on SQLite and PostgreSQL.

    .venv/bin/python -m bench.updates_bench [--updates 2000] [--users 200] [--pg URL]

Updates go through the bot's own polling loop (`DurablePolling`: each fetched update is stored
in the inbox table before it is handled). Latency is measured from the moment an update is
queued at the emulator to the moment the emulator receives the bot's reply for it; throughput
is updates over the whole run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import statistics
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

from aiogram import Bot, Dispatcher

from bench.pg import database
from bench.probe import build_probe_router
from bot.app import build_bot, build_dispatcher
from bot.config import Settings
from bot.emulator import BotApiEmulator
from bot.emulator.tracking import ProcessedTracker
from bot.fsm_storage import SqlStorage
from bot.polling import DurablePolling
from bot.services import Services
from storage.crypto import FieldCipher
from workflow.clock import SystemClock


@contextlib.asynccontextmanager
async def durable_polling(
    services: Services, emu: BotApiEmulator, dp: Dispatcher, bot: Bot
) -> AsyncIterator[None]:
    """The production update path: every fetched update is kept in the inbox table until its
    handler finished."""
    ProcessedTracker(emu).install(dp)
    runner = DurablePolling(
        dp,
        bot,
        services.db,
        services.clock,
        services.cipher,
        concurrency=services.settings.max_concurrent_updates,
        poll_timeout=1,
    )
    task = asyncio.create_task(runner.run())
    await asyncio.wait_for(runner.started.wait(), timeout=10)
    try:
        yield
    finally:
        await emu.wait_in_flight(5.0)
        runner.stop()
        await task


async def run_case(
    backend: str,
    command: str,
    updates: int,
    users: int,
    pg_url: str | None,
    rate: float | None = None,
) -> dict:
    """`rate=None` queues every update at once (throughput); a rate paces them (latency)."""
    async with database(backend, pg_url) as db, BotApiEmulator(processing_timeout=600) as emu:
        settings = Settings(_env_file=None, data_dir=Path(tempfile.gettempdir()), bot_token=None)
        clock = SystemClock()
        services = Services(
            settings, db, FieldCipher(os.urandom(32)), clock, SqlStorage(db, clock=clock)
        )
        dp = build_dispatcher(
            services,
            routers=[build_probe_router()],
        )
        bot = build_bot(emu.token, emu.url)
        people = [emu.user(800_000 + i) for i in range(users)]
        queued: dict[str, float] = {}  # reply text (unique per update) → when it was queued
        async with durable_polling(services, emu, dp, bot):
            start = time.monotonic()
            for n in range(updates):
                user = people[n % users]
                text = f"/{command} {n}"
                queued[f"pong {n}" if command == "ping" else f"noted {n}"] = time.monotonic()
                emu.enqueue_update(
                    {
                        "message": {
                            "from": user.api,
                            "text": text,
                            "entities": [
                                {"type": "bot_command", "offset": 0, "length": len(command) + 1}
                            ],
                        }
                    }
                )
                if rate:
                    await asyncio.sleep(max(0.0, start + (n + 1) / rate - time.monotonic()))
            await emu.wait_idle(timeout=600)
            elapsed = time.monotonic() - start
        await bot.session.close()
        latencies = [
            call.monotonic - queued[call.params["text"]] for call in emu.calls_to("sendMessage")
        ]
        assert len(latencies) == updates, (len(latencies), updates)
        assert not emu.violations and not emu.processing_errors
        latencies.sort()
        return {
            "load": "burst" if rate is None else f"{rate:g}/s",
            "backend": backend,
            "handler": "reply only" if command == "ping" else "writes",
            "updates": updates,
            "per_s": updates / elapsed,
            "p50_ms": statistics.median(latencies) * 1000,
            "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--updates", type=int, default=2000)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument(
        "--pg", default=os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
    )
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument(
        "--rates", type=float, nargs="*", default=[30.0, 100.0], help="paced loads, updates/s"
    )
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(
        f"{'load':<7} {'backend':<11} {'handler':<11} {'updates':>7} {'upd/s':>7} "
        f"{'p50 ms':>8} {'p99 ms':>8}"
    )
    for rate in [None, *args.rates]:
        for backend in args.backends.split(","):
            for command in ("ping", "note"):
                r = asyncio.run(run_case(backend, command, args.updates, args.users, args.pg, rate))
                print(
                    f"{r['load']:<7} {r['backend']:<11} {r['handler']:<11} {r['updates']:>7} "
                    f"{r['per_s']:>7.0f} {r['p50_ms']:>8.1f} {r['p99_ms']:>8.1f}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
