"""Webhook intake with one and with two bot instances on PostgreSQL and Redis: updates per
second, latency (p50, p99) and updates lost.

    .venv/bin/python -m bench.webhook_bench [--updates 2000] [--users 200] [--instances 1 2]
                                            [--rates 0 100] [--pg URL] [--redis URL]

Each instance is `zhupei run` in webhook mode, a process of its own, on one throwaway
PostgreSQL database (upgraded by `zhupei db upgrade`) and one Redis. They stand behind the
round-robin balancer (bench/balancer.py, a process of its own too, with one instance as with
two). This process holds the Bot API emulator, whose webhook delivery posts every update to the
balancer as Telegram does (up to `max_connections` at once, retrying until a 2xx), and the load:
`/help` from `--users` chats, round robin, all queued at once (rate 0) or paced. Each update
goes the production way: the per-user lock in Redis, one transaction with the dialog state and
the update's row in `update_log`, the reply sent after the commit, the row's replies cleared.

Latency runs from the moment an update is queued at the emulator to the moment the emulator
receives its reply (the k-th reply in a chat answers the chat's k-th update); throughput is
updates over the time from the first update queued to the last reply received. An update whose
reply never arrives within `--timeout` is lost. The CPU time of each part (the instances, the
balancer, this process, the PostgreSQL backends of the database) shows where the cores went.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import aiohttp

from bench.pg import scratch_database
from bot.emulator import BotApiEmulator
from tests.walks import bot_environment

ZHUPEI = Path(sys.executable).with_name("zhupei")
ROOT = Path(__file__).resolve().parents[1]
TICKS = os.sysconf("SC_CLK_TCK")
SECRET = "webhook-bench-secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process (Linux), 0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


async def backend_pids(url: str) -> list[int]:
    import asyncpg
    from sqlalchemy.engine import make_url

    u = make_url(url)
    conn = await asyncpg.connect(
        host=u.host, port=u.port or 5432, user=u.username, password=u.password, database="postgres"
    )
    try:
        rows = await conn.fetch("SELECT pid FROM pg_stat_activity WHERE datname = $1", u.database)
    finally:
        await conn.close()
    return [r["pid"] for r in rows]


def spawn(args: list[str], env: dict[str, str] | None, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(args, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)


def upgrade(env: dict[str, str]) -> None:
    done = subprocess.run([str(ZHUPEI), "db", "upgrade"], env=env, capture_output=True, check=False)
    assert done.returncode == 0, done.stderr.decode()


async def wait_http(url: str, procs: list[subprocess.Popen[bytes]], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:
        while True:
            for proc in procs:
                if proc.poll() is not None:
                    raise RuntimeError(f"a process exited with {proc.returncode}")
            try:
                async with http.get(url) as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} did not answer")
            await asyncio.sleep(0.2)


async def run_case(
    instances: int,
    updates: int,
    users: int,
    rate: float,
    pg_url: str,
    redis_url: str,
    limit: float,
    logs: Path,
) -> dict[str, Any]:
    bot_id = int.from_bytes(os.urandom(3), "big") + 10**8  # its own keys in Redis
    async with (
        scratch_database(pg_url) as url,
        BotApiEmulator(token=f"{bot_id}:webhook-bench", processing_timeout=limit) as emu,
    ):
        ports = [free_port() for _ in range(instances)]
        lb_port = free_port()
        env = bot_environment(
            emu,
            url.replace("postgresql+asyncpg://", "postgresql://"),
            REDIS_URL=redis_url,
            LOG_LEVEL="WARNING",
            WEBHOOK_URL=f"http://127.0.0.1:{lb_port}/telegram/webhook",
            WEBHOOK_SECRET=SECRET,
            WEBHOOK_HOST="127.0.0.1",
            SWEEP_INTERVAL_SECONDS="3600",
            SHUTDOWN_GRACE_SECONDS="5",
        )
        upgrade(env)
        procs: list[subprocess.Popen[bytes]] = []
        try:
            urls = [f"http://127.0.0.1:{p}" for p in ports]
            lb = [sys.executable, "-m", "bench.balancer", "--port", str(lb_port), *urls]
            procs.append(spawn(lb, None, logs / "balancer.log"))
            for n, port in enumerate(ports):
                own = {**env, "WEBHOOK_PORT": str(port), "DATA_DIR": str(logs / f"d{n}")}
                procs.append(spawn([str(ZHUPEI), "run"], own, logs / f"instance{n}.log"))
            for port in ports:
                await wait_http(f"http://127.0.0.1:{port}/healthz", procs, 120)
            while len(emu.calls_to("setWebhook")) < instances:  # noqa: ASYNC110
                await asyncio.sleep(0.1)
            result = await load(emu, procs, url, updates, users, rate, limit)
        finally:
            for proc in reversed(procs):
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
            for proc in procs:
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        assert not emu.violations, emu.violations[:3]
        result["instances"] = instances
        return result


async def load(
    emu: BotApiEmulator,
    procs: list[subprocess.Popen[bytes]],
    url: str,
    updates: int,
    users: int,
    rate: float,
    limit: float,
) -> dict[str, Any]:
    people = [emu.user(900_000 + i, language_code="zh-hans") for i in range(users)]
    for person in people:
        emu.state.open_chat(person.api)
    queued: dict[int, list[float]] = defaultdict(list)
    cpu_before = {p.pid: cpu_seconds(p.pid) for p in procs}
    me_before = time.process_time()
    start = time.monotonic()
    for n in range(updates):
        user = people[n % users]
        queued[user.chat_id].append(time.monotonic())
        emu.enqueue_update(
            {
                "message": {
                    "from": user.api,
                    "text": "/help",
                    "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
                }
            }
        )
        if rate:
            await asyncio.sleep(max(0.0, start + (n + 1) / rate - time.monotonic()))

    def replies() -> list[Any]:
        return [c for c in emu.calls_to("sendMessage") if c.status == 200]

    deadline = start + limit
    while len(replies()) < updates and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    pg = await backend_pids(url)
    cpu = {
        "instances": sum(cpu_seconds(p.pid) - cpu_before[p.pid] for p in procs[1:]),
        "balancer": cpu_seconds(procs[0].pid) - cpu_before[procs[0].pid],
        "emulator+load": time.process_time() - me_before,
        "postgres": sum(cpu_seconds(pid) for pid in pg),
    }
    got = replies()
    by_chat: dict[int, list[float]] = defaultdict(list)
    for call in got:
        by_chat[int(call.chat_id)].append(call.monotonic)
    latencies = []
    for chat, stamps in by_chat.items():
        stamps.sort()
        latencies += [t - q for t, q in zip(stamps, queued[chat], strict=False)]
    latencies.sort()
    elapsed = max(c.monotonic for c in got) - start
    deliveries = emu.state.webhook_log
    return {
        "load": "burst" if not rate else f"{rate:g}/s",
        "updates": updates,
        "per_s": len(got) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[max(int(len(latencies) * 0.99) - 1, 0)] * 1000,
        "lost": updates - len(got),
        "retried": sum(1 for d in deliveries if d.status is None or d.status >= 300),
        "cpu": cpu,
        "elapsed": elapsed,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--updates", type=int, default=2000)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--instances", type=int, nargs="+", default=[1, 2])
    parser.add_argument(
        "--rates", type=float, nargs="+", default=[0.0], help="updates/s; 0 queues all at once"
    )
    parser.add_argument(
        "--pg", default=os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
    )
    parser.add_argument("--redis", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    parser.add_argument("--timeout", type=float, default=300.0)
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(
        f"{'inst':>4} {'load':<7} {'updates':>7} {'upd/s':>7} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'lost':>5} {'retried':>7}  CPU s: instances / balancer / emulator+load / postgres"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for rate in args.rates:
            for instances in args.instances:
                r = asyncio.run(
                    run_case(
                        instances,
                        args.updates,
                        args.users,
                        rate,
                        args.pg,
                        args.redis,
                        args.timeout,
                        Path(tmp),
                    )
                )
                cpu = r["cpu"]
                print(
                    f"{r['instances']:>4} {r['load']:<7} {r['updates']:>7} {r['per_s']:>7.0f} "
                    f"{r['p50_ms']:>8.0f} {r['p99_ms']:>8.0f} {r['lost']:>5} {r['retried']:>7}  "
                    f"{cpu['instances']:.1f} / {cpu['balancer']:.1f} / "
                    f"{cpu['emulator+load']:.1f} / {cpu['postgres']:.1f} "
                    f"(in {r['elapsed']:.1f} s; the instances got "
                    f"{cpu['instances'] / r['elapsed']:.2f} cores)",
                    flush=True,
                )


if __name__ == "__main__":
    main()
