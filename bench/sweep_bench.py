"""One scheduler sweep over 100,000 trainees: time, SQL statements, memory, on SQLite and
PostgreSQL.

    .venv/bin/python -m bench.sweep_bench [--trainees 100000] [--backends sqlite,postgresql]
                                          [--pg URL] [--no-tracemalloc]

The world is loaded with bulk inserts (no password hashing, no encryption: the sweep reads
neither). At the moment of the sweep (10:00 Asia/Shanghai, after the digest time) everything is
due at once: an application period closing in 20 hours (drafts and incomplete profiles), a
confirmation period closing in 90 minutes, results whose lock ends within the hour, results
whose lock has passed, results whose confirmation period has passed (with the messages that
carried their accept buttons), trainings without years, and every base and commission with
something waiting. Statements are counted with an SQLAlchemy `before_cursor_execute` listener;
memory is the peak of Python allocations (tracemalloc) and the peak growth of the process's
resident memory during the sweep (Linux: VmHWM after resetting it). CPU time is counted for this
process and, on PostgreSQL on this host, for the server processes serving it (`bench/cpu.py`):
on a machine shared with other work it varies far less than the wall-clock time. On PostgreSQL
the loaded tables are analysed before the sweep, as autovacuum keeps them in a live database.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import resource
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import event, insert, text

from bench.cpu import CpuMeter
from bench.pg import database
from bot.config import Settings
from bot.fsm_storage import SqlStorage
from bot.services import Services
from scheduler.sweeps import run_sweep
from storage.crypto import FieldCipher
from storage.db import Database
from storage.models import (
    Account,
    Application,
    Base,
    Batch,
    BatchPersonnelType,
    City,
    EducationRecord,
    OutboxMessage,
    Specialty,
    TelegramUser,
    TraineeProfile,
    Training,
)
from workflow.clock import FrozenClock
from workflow.enums import ApplicationStatus as S
from workflow.enums import BaseKind, EducationLevel, PersonnelType, Role, Supervisor

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 7, 1, 10, 0, tzinfo=SH).astimezone(UTC)
CHUNK = 5_000


def chunks(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for i in range(0, len(rows), CHUNK):
        yield rows[i : i + CHUNK]


async def load(db: Database, trainees: int) -> dict[str, int]:
    """The world of the benchmark; returns how many of each group it holds."""
    hours = timedelta(hours=1)
    n = trainees
    groups = {
        "drafts in the closing batch": n // 5,
        "submitted to the closing batch": n * 3 // 10,
        "no application, profile incomplete": n // 4,
        "no application, profile complete": n - n // 5 - n * 3 // 10 - n // 4,
    }
    async with db.transaction() as s:
        await s.execute(
            insert(City), [{"id": c, "code": f"C{c}", "name": f"市{c}"} for c in range(1, 22)]
        )
        bases = []
        for b in range(1, 101):
            city = (b % 21) + 1
            supervisor = Supervisor.PROVINCE if b % 10 == 0 else Supervisor.CITY
            bases.append(
                {
                    "id": b,
                    "code": f"B{b}",
                    "name": f"基地{b}",
                    "kind": BaseKind.NATIONAL,
                    "city_id": city,
                    "supervisor": supervisor,
                }
            )
            bases.append(
                {
                    "id": 1000 + b,
                    "code": f"B{b}-1",
                    "name": f"基地{b}",
                    "kind": BaseKind.LOCAL,
                    "parent_id": b,
                    "city_id": city,
                    "supervisor": supervisor,
                }
            )
        await s.execute(insert(Base), bases)
        await s.execute(insert(Specialty), [{"id": 1, "code": "0100", "name": "内科"}])
        batches = [
            # closing: applications close in 20 h
            (
                1,
                2026,
                NOW - 10 * 24 * hours,
                NOW + 20 * hours,
                NOW + 30 * 24 * hours,
                NOW + 40 * 24 * hours,
            ),
            # confirming: the confirmation period ends in 90 minutes
            (
                2,
                2025,
                NOW - 60 * 24 * hours,
                NOW - 30 * 24 * hours,
                NOW - 2 * 24 * hours,
                NOW + 1.5 * hours,
            ),
            # closed: the confirmation period ended an hour ago
            (
                3,
                2024,
                NOW - 90 * 24 * hours,
                NOW - 60 * 24 * hours,
                NOW - 5 * 24 * hours,
                NOW - hours,
            ),
        ]
        await s.execute(
            insert(Batch),
            [
                {
                    "id": i,
                    "program": "residency",
                    "name": f"批次{i}",
                    "cohort_year": y,
                    "apply_start": a,
                    "apply_end": e,
                    "confirm_start": cs,
                    "confirm_end": ce,
                    "lock_hours": 12,
                    "created_at": NOW,
                }
                for i, y, a, e, cs, ce in batches
            ],
        )
        await s.execute(
            insert(BatchPersonnelType),
            [{"batch_id": i, "personnel_type": PersonnelType.SOCIAL} for i in (1, 2, 3)],
        )
    # Staff: two per base, one per city, one province; all bound to a chat.
    staff = [
        {
            "id": 1_000_000 + i,
            "role": Role.BASE,
            "display_name": "基地用户",
            "base_id": 1 + i % 100,
            "is_active": True,
            "created_at": NOW - 100 * 24 * hours,
        }
        for i in range(200)
    ]
    staff += [
        {
            "id": 1_100_000 + c,
            "role": Role.CITY,
            "display_name": "卫健委",
            "city_id": c,
            "is_active": True,
            "created_at": NOW - 100 * 24 * hours,
        }
        for c in range(1, 22)
    ]
    staff.append(
        {
            "id": 1_200_000,
            "role": Role.PROVINCE,
            "display_name": "省卫健委",
            "is_active": True,
            "created_at": NOW - 100 * 24 * hours,
        }
    )
    accounts = [
        {
            "id": i,
            "role": Role.TRAINEE,
            "display_name": f"学员{i}",
            "program": "residency",
            "is_active": True,
            "created_at": NOW - 30 * 24 * hours,
        }
        for i in range(1, n + 1)
    ]
    first_incomplete = (
        groups["drafts in the closing batch"] + groups["submitted to the closing batch"] + 1
    )
    incomplete = range(
        first_incomplete, first_incomplete + groups["no application, profile incomplete"]
    )
    profiles, education = [], []
    for i in range(1, n + 1):
        done = i not in incomplete
        profiles.append(
            {
                "account_id": i,
                "name": "学员",
                "id_type": "passport",
                "id_number_enc": b"x",
                "id_number_index": f"i{i}",
                "id_tail": f"{i % 10000:04d}",
                "gender": "female",
                "birth_date": date(1998, 1, 1),
                "ethnicity": "汉族",
                "political_status": "群众",
                "phone_verified_at": NOW,
                "email": "a@example.com",
                "address": "广州" if done else None,
                "emergency_name": "李四",
                "emergency_phone_enc": b"e",
                "has_work_unit": False,
            }
        )
        if done:
            education.append(
                {
                    "account_id": i,
                    "school": "中山大学",
                    "major": "临床医学",
                    "level": EducationLevel.BACHELOR,
                    "start_date": date(2016, 9, 1),
                    "end_date": date(2021, 6, 30),
                    "is_first": True,
                    "is_highest": True,
                    "is_bachelor": False,
                }
            )
    apps: list[dict[str, Any]] = []

    def app(account: int, batch: int, year: int, status: S, **kw: Any) -> None:
        apps.append(
            {
                "account_id": account,
                "batch_id": batch,
                "cohort_year": year,
                "status": status,
                "step": "review",
                "personnel_type": PersonnelType.SOCIAL,
                "specialty_id": 1,
                "intended_specialty_id": 1,
                "base_id": 1 + account % 100,
                "site_id": 1001 + account % 100,
                "supplement": {},
                "created_at": NOW - 5 * 24 * hours,
                "updated_at": NOW - 5 * 24 * hours,
                **kw,
            }
        )

    drafts = groups["drafts in the closing batch"]
    for i in range(1, drafts + 1):
        app(i, 1, 2026, S.DRAFT)
    for i in range(drafts + 1, first_incomplete):
        app(i, 1, 2026, S.SUBMITTED, submitted_at=NOW - 4 * 24 * hours)
    # Last year's and the year before's results, on the trainees with complete profiles.
    confirm_end_2, confirm_end_3 = NOW + 1.5 * hours, NOW - hours
    tail = list(range(first_incomplete + groups["no application, profile incomplete"], n + 1))
    cut = [len(tail) * k // 5 for k in range(6)]
    accepted = tail[cut[0] : cut[0] + 500]  # accepted, waiting for the commission
    for i in accepted:
        app(
            i,
            2,
            2025,
            S.ACCEPTED,
            sent_at=NOW - 3 * 24 * hours,
            acceptable_at=NOW - 2 * 24 * hours,
            deadline_at=confirm_end_2,
        )
    for i in tail[cut[0] + 500 : cut[2]]:  # acceptable, confirmation closes in 90 min
        app(
            i,
            2,
            2025,
            S.ACCEPTABLE,
            sent_at=NOW - 3 * 24 * hours,
            acceptable_at=NOW - 2 * 24 * hours,
            deadline_at=confirm_end_2,
        )
    for i in tail[cut[2] : cut[3]]:  # sent 11.5 h ago: the lock ends within the hour
        app(
            i,
            2,
            2025,
            S.SENT,
            sent_at=NOW - 11.5 * hours,
            acceptable_at=NOW + 0.5 * hours,
            deadline_at=confirm_end_2,
        )
    for i in tail[cut[3] : cut[4]]:  # the lock passed: becomes acceptable
        app(
            i,
            2,
            2025,
            S.SENT,
            sent_at=NOW - 13 * hours,
            acceptable_at=NOW - hours,
            deadline_at=confirm_end_2,
        )
    expiring = tail[cut[4] : cut[5]]
    for i in expiring:  # the confirmation period ended: expires
        app(
            i,
            3,
            2024,
            S.ACCEPTABLE,
            sent_at=NOW - 6 * 24 * hours,
            acceptable_at=NOW - 5 * 24 * hours,
            deadline_at=confirm_end_3,
        )
    async with db.transaction() as s:
        for rows in (staff, accounts):
            for part in chunks(rows):
                await s.execute(insert(Account), part)
        tg = [
            {"id": 10_000_000 + r["id"], "chat_id": 10_000_000 + r["id"], "account_id": r["id"]}
            for r in accounts + staff
        ]
        for model, rows in (
            (TelegramUser, tg),
            (TraineeProfile, profiles),
            (EducationRecord, education),
            (Application, apps),
        ):
            for part in chunks(rows):
                await s.execute(insert(model), part)
    async with db.transaction() as s:
        # The messages that carried accept buttons for the expiring results, and trainings.
        ids = dict(
            (
                await s.execute(
                    Application.__table__.select()
                    .with_only_columns(Application.account_id, Application.id)
                    .where(Application.batch_id == 3)
                )
            ).all()
        )
        sent = [
            {
                "dedupe_key": f"sent|{a}",
                "account_id": a,
                "kind": "result_acceptable",
                "subject": f"application:{ids[a]}",
                "payload": {},
                "status": "sent",
                "attempts": 1,
                "chat_id": 10_000_000 + a,
                "message_id": 7,
                "created_at": NOW - 5 * 24 * hours,
            }
            for a in expiring
        ]
        for part in chunks(sent):
            await s.execute(insert(OutboxMessage), part)
        trainings = [
            {
                "application_id": ids[a],
                "account_id": a,
                "base_id": 1 + a % 100,
                "status": "in_training",
                "created_at": NOW - 2 * 24 * hours,
            }
            for a in expiring[: len(expiring) // 2]
        ]
        for part in chunks(trainings):
            await s.execute(insert(Training), part)
    groups["accepted, to confirm"] = len(accepted)
    groups["acceptable, closing in 90 min"] = cut[2] - cut[0] - len(accepted)
    groups["sent, lock ends within 1 h"] = cut[3] - cut[2]
    groups["sent, lock passed"] = cut[4] - cut[3]
    groups["acceptable, period passed"] = len(expiring)
    groups["trainings without years"] = len(trainings)
    return groups


def _status(field: str) -> int:
    """A field of /proc/self/status in KiB (Linux), else the peak RSS from getrusage."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def reset_peak_rss() -> int:
    """Reset the peak RSS to the current RSS (Linux ≥ 4.0); returns the current RSS in KiB."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")
    return _status("VmRSS")


def peak_rss() -> int:
    return _status("VmHWM")


async def run(
    backend: str, trainees: int, pg_url: str | None, verbose: bool, memory: bool = True
) -> None:
    async with database(backend, pg_url) as db:
        started = time.monotonic()
        groups = await load(db, trainees)
        if backend == "postgresql":
            async with db.engine.begin() as conn:
                await conn.execute(text("ANALYZE"))
        print(f"\n[{backend}] loaded in {time.monotonic() - started:.0f} s:")
        for name, count in groups.items():
            print(f"  {count:>7,}  {name}")
        statements: list[str] = []
        slowest: list[tuple[float, str]] = []
        began: list[float] = []

        def before(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            statements.append(statement.split(None, 1)[0].upper())
            began.append(time.perf_counter())

        def after(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            slowest.append((time.perf_counter() - began.pop(), " ".join(statement.split())))

        meter = CpuMeter(db.engine)
        await db.engine.dispose()  # the sweep's connections are counted from here on
        event.listen(db.engine.sync_engine, "before_cursor_execute", before)
        event.listen(db.engine.sync_engine, "after_cursor_execute", after)
        clock = FrozenClock(NOW)
        settings = Settings(_env_file=None, bot_token=None, data_dir=Path(tempfile.gettempdir()))
        services = Services(
            settings, db, FieldCipher(os.urandom(32)), clock, SqlStorage(db, clock=clock)
        )
        for label in ("first sweep", "second sweep, same moment"):
            statements.clear()
            slowest.clear()
            rss_before = reset_peak_rss()
            cpu = meter.snapshot()
            if memory:
                tracemalloc.start()
            started = time.monotonic()
            report = await run_sweep(services)
            took = time.monotonic() - started
            process_cpu, server_cpu = meter.since(cpu)
            _, peak = tracemalloc.get_traced_memory() if memory else (0, 0)
            tracemalloc.stop()
            rss_growth = peak_rss() - rss_before
            kinds = {s: statements.count(s) for s in sorted(set(statements))}
            server = "" if server_cpu is None else f" + {server_cpu:.2f} s of the server's"
            print(
                f"  {label}: {took:.2f} s (CPU {process_cpu:.2f} s{server}), "
                f"{len(statements)} statements {kinds}, "
                f"peak Python allocations {peak / 2**20:.1f} MiB, "
                f"peak RSS growth {rss_growth / 1024:.1f} MiB"
            )
            shown = {k: v for k, v in sorted(report.counts.items()) if v}
            print(f"    {shown}")
            if verbose:
                for took_one, sql in sorted(slowest, reverse=True)[:5]:
                    print(f"    {took_one:6.2f} s  {sql[:160]}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trainees", type=int, default=100_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--verbose", action="store_true", help="show the slowest statements")
    parser.add_argument(
        "--no-tracemalloc",
        action="store_true",
        help="time the sweeps without tracing allocations (which slows Python down about twice)",
    )
    parser.add_argument(
        "--pg", default=os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
    )
    args = parser.parse_args()
    if args.trainees < 20_000:
        # The generated world is shaped for large counts: at 2,000 its groups overlap.
        parser.error("--trainees: at least 20000")
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    for backend in args.backends.split(","):
        asyncio.run(
            run(backend, args.trainees, args.pg, args.verbose, memory=not args.no_tracemalloc)
        )


if __name__ == "__main__":
    main()
