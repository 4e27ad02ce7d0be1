"""Where this bot's CPU goes per update: `compare_bench`'s workload against `zhupei run` under
cProfile, with the SQL statements it sends counted by kind.

    .venv/bin/python -m bench.profile_bot [--backend sqlite|postgresql] [--pg URL] [--users 100]
                                          [--out /tmp/zhupei-profile] [--no-cprofile]

The bot runs as its own process, as in the comparison; profiling (CPU time, not wall time) and
counting start when the walk starts, after start-up. At the end it prints the bench's figures,
the statements per update and the 30 functions with the most CPU time of their own;
`OUT.prof` is for `python -m pstats` or snakeviz, `OUT.sql.json` has the counts and the most
frequent statements. cProfile roughly doubles the CPU per step: compare profiles with each
other, and CPU per step with `--no-cprofile` (or `compare_bench`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import pstats
import signal
import stat
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench import compare_bench

# Run inside the bot process, before `zhupei run`.
CHILD = r"""
import atexit, collections, cProfile, json, os, signal, time
from sqlalchemy import event
from sqlalchemy.engine import Engine

counts, texts, on = collections.Counter(), collections.Counter(), [False]

@event.listens_for(Engine, "before_cursor_execute")
def _count(conn, cursor, statement, parameters, context, executemany):
    if on[0]:
        counts[(statement.lstrip().split(None, 1) or ["?"])[0].upper()] += 1
        texts[" ".join(statement.split())[:200]] += 1

@event.listens_for(Engine, "commit")
def _commit(conn):
    if on[0]:
        counts["COMMIT"] += 1

out = os.environ["PROFILE_OUT"]
prof = cProfile.Profile(time.process_time) if os.environ.get("PROFILE_CPROFILE") == "1" else None

def start(*_):
    on[0] = True
    if prof is not None:
        prof.enable()

def dump():
    if prof is not None:
        prof.disable()
        prof.dump_stats(out + ".prof")
    with open(out + ".sql.json", "w") as fh:
        json.dump({"counts": counts, "texts": texts.most_common(60)}, fh, indent=1)

signal.signal(signal.SIGUSR1, start)
atexit.register(dump)
from bot.cli import main
main(["run"])
"""


def wrapper_bin(tmp: Path, out: str, cprofile: bool) -> Path:
    """A directory whose `zhupei` runs `zhupei run` under CHILD and anything else as usual."""
    child = tmp / "child.py"
    child.write_text(CHILD)
    script = tmp / "zhupei"
    script.write_text(
        "#!/bin/sh\n"
        f"export PROFILE_OUT='{out}' PROFILE_CPROFILE='{int(cprofile)}'\n"
        f'if [ "$1" = run ]; then exec "{sys.executable}" "{child}"; fi\n'
        f'exec "{compare_bench.BIN / "zhupei"}" "$@"\n'
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return tmp


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", default="sqlite", choices=["sqlite", "postgresql"])
    parser.add_argument("--pg", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--rates", type=int, nargs="*", default=[50])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--out", default=str(Path(tempfile.gettempdir()) / "zhupei-profile"))
    parser.add_argument("--no-cprofile", action="store_true", help="count statements only")
    args = parser.parse_args()

    measure = compare_bench.measure

    async def measure_profiled(emulator: Any, chats: Any, bot: Any, *rest: Any) -> Any:
        bot.proc.send_signal(signal.SIGUSR1)
        return await measure(emulator, chats, bot, *rest)

    with tempfile.TemporaryDirectory() as tmp:
        compare_bench.BIN = wrapper_bin(Path(tmp), args.out, not args.no_cprofile)
        compare_bench.measure = measure_profiled  # type: ignore[assignment]
        result = await compare_bench.run("zhupei", args.backend, args)
    print(", ".join(f"{k}={v:.1f}" for k, v in result.items()))
    report(args.out, cprofile=not args.no_cprofile)


def report(out: str, *, cprofile: bool) -> None:
    sql = json.loads(Path(out + ".sql.json").read_text())
    counts: dict[str, int] = sql["counts"]
    updates = next((n for text, n in sql["texts"] if text.startswith("INSERT INTO update_log")), 0)
    if updates:
        total = sum(counts.values())
        per = ", ".join(f"{k} {v / updates:.2f}" for k, v in sorted(counts.items()))
        print(f"{updates} updates; per update {total / updates:.2f} statements: {per}")
    if cprofile:
        pstats.Stats(out + ".prof").sort_stats("tottime").print_stats(30)


if __name__ == "__main__":
    asyncio.run(main())
