"""This bot against a typical aiogram bot (`bench/typical_bot.py`), side by side.

    .venv/bin/python -m bench.compare_bench [--rounds 2] [--users 300] [--rates 20 50 100 200]
                                            [--backends sqlite postgresql] [--pg URL] [--short]

Each bot runs as its own process (`zhupei run`, `python -m bench.typical_bot`) against the Bot
API emulator, which runs in this process with the load. Simulated users take the first
registration steps (/start, 学员注册, the programme, the name, the ID type, the ID number), each
waiting for the whole answer before the next step. One user first walks alone: how many calls
answer each step is what every user's step must reach. Runs are interleaved A/B/A/B so that the
machine's noise falls on both bots.

Reported per bot and backend: steps/s for a burst (every user starts at once), p50/p99 latency
at offered rates (steps released at that pace to users ready for their next step), failed steps
(unanswered within the step timeout), CPU per step (the bot process's user + system time over
the steps it answered), start-up time (process start to its first getUpdates) and RSS at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from bench.pg import scratch_database
from bot.emulator import BotApiEmulator, ScriptedUser
from tests.factories import make_id
from tests.walks import bot_environment
from tests.walks import steps_of as walk_steps

REPLY_METHODS = {"sendMessage", "editMessageText", "editMessageReplyMarkup", "deleteMessage"}
STEP_TIMEOUT = 30.0
BIN = Path(sys.executable).parent
TICK = os.sysconf("SC_CLK_TCK")
BOTS = ("typical", "zhupei")


# --- what the chats show -------------------------------------------------------------------------


class Chats:
    """Counts, per chat, the reply calls the emulator carried out, and wakes whoever waits for
    a chat to reach a count (with the moment it did)."""

    def __init__(self, emulator: BotApiEmulator) -> None:
        self.emulator = emulator
        self.count: dict[int, int] = {}
        self.waiters: dict[int, list[tuple[int, asyncio.Future[float]]]] = {}
        self.pos = 0
        self.pending: list[Any] = []
        self.task = asyncio.create_task(self.scan())

    async def scan(self) -> None:
        while True:
            calls = self.emulator.calls
            while self.pos < len(calls):
                call = calls[self.pos]
                self.pos += 1
                if call.method in REPLY_METHODS and isinstance(call.chat_id, int):
                    self.pending.append(call)
            still = []
            for call in self.pending:
                if call.status == 0:
                    still.append(call)
                elif call.status == 200:
                    self.seen(call.chat_id, call.monotonic)
            self.pending = still
            await asyncio.sleep(0.002)

    def seen(self, chat: int, at: float) -> None:
        n = self.count.get(chat, 0) + 1
        self.count[chat] = n
        waiting = self.waiters.get(chat, [])
        for target, future in list(waiting):
            if n >= target and not future.done():
                future.set_result(at)
                waiting.remove((target, future))

    def reached(self, chat: int, target: int) -> asyncio.Future[float]:
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        if self.count.get(chat, 0) >= target:
            future.set_result(time.monotonic())
        else:
            self.waiters.setdefault(chat, []).append((target, future))
        return future

    def close(self) -> None:
        self.task.cancel()


def steps_of(user: ScriptedUser, i: int) -> list[Callable[[], None]]:
    """The first six steps of the registration walk (up to the ID number)."""
    id_number = make_id(date(1970, 1, 1) + timedelta(days=3 * i))
    return [act for _, act in walk_steps(user, i, id_number)[:6]]


@dataclass
class Walker:
    """One user's steps, one at a time."""

    user: ScriptedUser
    steps: list[Callable[[], None]]
    expected: list[int]
    base: int = 0
    done: int = 0
    busy: bool = False
    latencies: list[float] = field(default_factory=list)
    failed: int = 0

    @property
    def ready(self) -> bool:
        return not self.busy and self.done < len(self.steps)

    async def step(self, chats: Chats) -> None:
        self.busy = True
        number = self.done
        started = time.monotonic()
        try:
            self.steps[number]()
            target = self.base + self.expected[number]
            at = await asyncio.wait_for(chats.reached(self.user.chat_id, target), STEP_TIMEOUT)
            self.latencies.append(at - started)
        except (TimeoutError, AssertionError):  # unanswered, or no button to press
            self.failed += 1
            self.done = len(self.steps)  # the rest of this user's walk cannot go on
        else:
            self.done += 1
        finally:
            self.busy = False


# --- the bot processes ---------------------------------------------------------------------------


@dataclass
class BotProc:
    proc: subprocess.Popen[bytes]
    log: Path

    def cpu(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime

    def rss_mib(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@contextlib.asynccontextmanager
async def database_url(backend: str, pg_url: str | None, tmp: Path) -> AsyncIterator[str]:
    if backend == "postgresql":
        assert pg_url, "--pg URL (or DATABASE_URL) for PostgreSQL"
        async with scratch_database(pg_url) as url:
            yield make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        return
    yield f"sqlite:///{tmp / 'bench.db'}"


async def start_bot(
    kind: str, url: str, emulator: BotApiEmulator, tmp: Path
) -> tuple[BotProc, float]:
    env = bot_environment(emulator, url, DATA_DIR=str(tmp / "data"), LOG_LEVEL="WARNING")
    if kind == "zhupei":
        upgrade = await asyncio.create_subprocess_exec(
            str(BIN / "zhupei"), "db", "upgrade", env=env, stderr=asyncio.subprocess.PIPE
        )
        _, err = await upgrade.communicate()
        assert upgrade.returncode == 0, err.decode()
        command = [str(BIN / "zhupei"), "run"]
    else:
        command = [sys.executable, "-m", "bench.typical_bot"]
    log = tmp / f"{kind}.log"
    before = len(emulator.calls_to("getUpdates"))
    started = time.monotonic()
    with log.open("wb") as out:
        proc = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)  # noqa: ASYNC220
    bot = BotProc(proc, log)
    while len(emulator.calls_to("getUpdates")) <= before:
        if proc.poll() is not None:
            raise RuntimeError(f"{kind} exited:\n{log.read_text()[-4000:]}")
        await asyncio.sleep(0.01)
    return bot, time.monotonic() - started


# --- one run: one bot, one backend ---------------------------------------------------------------


async def run(kind: str, backend: str, args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        async with (
            database_url(backend, args.pg, tmp) as url,
            BotApiEmulator(token="777000:bench-compare", processing_timeout=120) as emulator,
        ):
            bot, startup = await start_bot(kind, url, emulator, tmp)
            chats = Chats(emulator)
            try:
                return await measure(emulator, chats, bot, startup, args)
            finally:
                chats.close()
                bot.stop()


async def measure(
    emulator: BotApiEmulator,
    chats: Chats,
    bot: BotProc,
    startup: float,
    args: argparse.Namespace,
) -> dict[str, Any]:
    next_user = iter(range(6_000_000, 7_000_000))

    def walker(expected: list[int]) -> Walker:
        uid = next(next_user)
        user = emulator.user(uid, language_code="zh-hans", first_name="T")
        return Walker(user, steps_of(user, uid - 6_000_000), expected)

    # The walk alone: how many calls answer each step.
    model = walker([10**6] * 6)
    expected = []
    for act in model.steps:
        before = chats.count.get(model.user.chat_id, 0)
        act()
        await asyncio.wait_for(chats.reached(model.user.chat_id, before + 1), STEP_TIMEOUT)
        await asyncio.sleep(0.5)  # the rest of the answer
        expected.append(chats.count.get(model.user.chat_id, 0))

    out: dict[str, Any] = {"startup_s": startup}
    steps_done = 0
    cpu_total = 0.0

    # A burst: every user starts at once and walks as fast as the bot answers.
    walkers = [walker(expected) for _ in range(args.users)]
    cpu0, t0 = bot.cpu(), time.monotonic()

    async def walk(w: Walker) -> None:
        while w.ready:
            await w.step(chats)

    await asyncio.gather(*(walk(w) for w in walkers))
    elapsed = time.monotonic() - t0
    answered = sum(len(w.latencies) for w in walkers)
    cpu_total += bot.cpu() - cpu0
    steps_done += answered
    out["burst_steps_s"] = answered / elapsed
    out["burst_failed"] = sum(w.failed for w in walkers)

    for rate in args.rates:
        steps = max(int(rate * args.seconds), 60)
        pool = [walker(expected) for _ in range(max(steps // 6 + 1, 20))]
        cpu0 = bot.cpu()
        tasks: list[asyncio.Task[None]] = []
        start = time.monotonic()
        for n in range(steps):
            await asyncio.sleep(max(0.0, start + n / rate - time.monotonic()))
            ready = next((w for w in pool if w.ready), None)
            if ready is None:
                continue
            tasks.append(asyncio.create_task(ready.step(chats)))
        await asyncio.gather(*tasks)
        latencies = sorted(x for w in pool for x in w.latencies)
        cpu_total += bot.cpu() - cpu0
        steps_done += len(latencies)
        out[f"p50_{rate}"] = statistics.median(latencies) * 1000 if latencies else float("nan")
        out[f"p99_{rate}"] = (
            latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000
            if latencies
            else float("nan")
        )
        out[f"failed_{rate}"] = sum(w.failed for w in pool)
    out["cpu_ms_step"] = cpu_total / max(steps_done, 1) * 1000
    out["rss_mib"] = bot.rss_mib()
    out["violations"] = len(emulator.violations)
    return out


# --- the report ----------------------------------------------------------------------------------


def report(results: dict[tuple[str, str], list[dict[str, Any]]], args: argparse.Namespace) -> None:
    print(
        f"\n{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"{args.users} users in the burst, {args.seconds:g} s per offered rate, "
        f"medians of {args.rounds} interleaved rounds\n"
    )
    rows = [("burst, steps/s", "burst_steps_s", "{:.0f}")]
    for rate in args.rates:
        rows.append((f"p50 / p99 at {rate} steps/s, ms", f"p50_{rate}|p99_{rate}", "{:.0f}"))
    rows += [
        ("failed steps", "failed", "{:.0f}"),
        ("CPU per step, ms", "cpu_ms_step", "{:.1f}"),
        ("start to first getUpdates, s", "startup_s", "{:.1f}"),
        ("RSS, MiB", "rss_mib", "{:.0f}"),
        ("Bot API violations", "violations", "{:.0f}"),
    ]
    columns = [(bot, backend) for backend in args.backends for bot in BOTS]

    def value(key: tuple[str, str], field_: str) -> float:
        runs = results[key]
        if field_ == "failed":
            return statistics.median(
                sum(v for k, v in r.items() if k.endswith("failed") or k.startswith("failed_"))
                for r in runs
            )
        return statistics.median(r[field_] for r in runs)

    head = " | ".join(f"{bot}, {backend}" for bot, backend in columns)
    print(f"| | {head} |")
    print("|---|" + "---:|" * len(columns))
    for label, key, fmt in rows:
        cells = []
        for col in columns:
            if "|" in key:
                a, b = key.split("|")
                cells.append(f"{fmt.format(value(col, a))} / {fmt.format(value(col, b))}")
            else:
                cells.append(fmt.format(value(col, key)))
        print(f"| {label} | " + " | ".join(cells) + " |")
    print()
    for backend in args.backends:
        ours, typical = ("zhupei", backend), ("typical", backend)
        burst = value(ours, "burst_steps_s") / value(typical, "burst_steps_s")
        cpu = value(ours, "cpu_ms_step") / value(typical, "cpu_ms_step")
        print(
            f"{backend}: burst throughput ×{burst:.2f} of the typical bot, CPU per step ×{cpu:.2f}"
        )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--users", type=int, default=300)
    parser.add_argument("--rates", type=int, nargs="+", default=[20, 50, 100, 200])
    parser.add_argument("--seconds", type=float, default=10.0, help="per offered rate")
    parser.add_argument("--backends", nargs="+", default=None)
    parser.add_argument("--pg", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--short", action="store_true", help="one round, fewer users and rates")
    args = parser.parse_args()
    if args.short:
        args.rounds, args.users, args.rates, args.seconds = 1, 100, [50, 100], 5.0
    if args.backends is None:
        args.backends = ["sqlite"] + (["postgresql"] if args.pg else [])
    results: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for round_ in range(args.rounds):
        for backend in args.backends:
            for kind in BOTS if round_ % 2 == 0 else BOTS[::-1]:
                print(f"round {round_ + 1}: {kind} on {backend} …", flush=True)
                result = await run(kind, backend, args)
                print("  " + ", ".join(f"{k}={v:.1f}" for k, v in result.items()), flush=True)
                results.setdefault((kind, backend), []).append(result)
    report(results, args)


if __name__ == "__main__":
    asyncio.run(main())
