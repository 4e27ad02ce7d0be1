"""Schema migrations (Alembic), driven from code: there is no alembic.ini.

The scripts live in `storage/migrations/`; the Alembic `Config` is built here, and the database
URL is handed to `env.py` through `Config.attributes` (never through the ini parser, which would
choke on a percent-encoded password). Every function takes the ordinary URL forms the app uses
(`sqlite:///data/zhupei.db`, `postgresql://user@host/db`) and runs on the async drivers.

Operators use `zhupei db upgrade` and `zhupei db current`. Developers, when the models change:

    .venv/bin/python -m storage.migrate check              # models vs. a fresh DB at head
    .venv/bin/python -m storage.migrate revision -m "add x" # autogenerate the next migration
    .venv/bin/python -m storage.migrate regenerate         # rewrite 0001_initial.py (pre-release)

`revision` and `regenerate` autogenerate against a throwaway SQLite database, with
`render_as_batch` (so ALTERs also work on SQLite) and the render hooks of `render_item`, which
keep app types out of the scripts; then ruff formats the file. Read the result before you commit
it: autogenerate misses renames and server defaults.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.autogenerate.api import AutogenContext
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory, write_hooks
from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool
from sqlmodel.sql.sqltypes import AutoString

from storage.db import SQLITE_BUSY_TIMEOUT_MS, async_url, prepare_sqlite_file
from storage.types import UtcDateTime

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
INITIAL = MIGRATIONS_DIR / "versions" / "0001_initial.py"
# Serialises concurrent `db upgrade` runs on PostgreSQL (an arbitrary, fixed key).
PG_LOCK_KEY = 0x7A687570

T = TypeVar("T")


class SchemaNotCurrent(Exception):
    """The database is not at the revision this code needs."""


# --- configuration ---------------------------------------------------------------------------


def alembic_config(url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    if url is not None:
        cfg.attributes["url"] = url
    return cfg


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | bool:
    """Render app column types as plain SQLAlchemy types, so scripts never import app code."""
    if type_ != "type":
        return False
    if isinstance(obj, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    if isinstance(obj, AutoString):
        return f"sa.String(length={obj.length})" if obj.length else "sa.String()"
    return False


def context_options(dialect: str) -> dict[str, Any]:
    """What env.py passes to `context.configure`, and what the schema checks compare with."""
    return {
        "compare_type": True,
        "render_as_batch": dialect == "sqlite",
        "render_item": render_item,
    }


def migration_engine(url: str, *, write: bool = True) -> AsyncEngine:
    """An engine for schema work: no pool, and on SQLite foreign keys off during the change
    (batch migrations copy tables) and the write lock taken up front."""
    url = async_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_async_engine(url, poolclass=NullPool)
    prepare_sqlite_file(parsed.database)
    engine = create_async_engine(url, poolclass=NullPool)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA foreign_keys = OFF")
        if write:
            cur.execute("PRAGMA journal_mode = WAL")
        cur.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def lock_for_migration(connection: Connection) -> None:
    """Inside the migration transaction: one migrator at a time on PostgreSQL (SQLite's
    BEGIN IMMEDIATE already is)."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_LOCK_KEY})


async def _with_connection(url: str, work: Callable[[Connection], T], *, write: bool) -> T:
    engine = migration_engine(url, write=write)
    try:
        async with engine.connect() as conn:
            result = await conn.run_sync(work)
            await conn.commit()
            return result
    finally:
        await engine.dispose()


def _sqlite_file_missing(url: str) -> bool:
    parsed = make_url(async_url(url))
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return False
    return not Path(parsed.database).exists()


# --- upgrade and status ----------------------------------------------------------------------


def _upgrade(connection: Connection, revision: str) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, revision)
    if connection.dialect.name == "sqlite":
        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"foreign key violations after the migration: {broken[:5]}")


async def upgrade_async(url: str, revision: str = "head") -> None:
    await _with_connection(url, lambda conn: _upgrade(conn, revision), write=True)


def upgrade(url: str, revision: str = "head") -> None:
    asyncio.run(upgrade_async(url, revision))


def _downgrade(connection: Connection, revision: str) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    command.downgrade(cfg, revision)


async def downgrade_async(url: str, revision: str) -> None:
    """For development and tests: the app never downgrades by itself."""
    await _with_connection(url, lambda conn: _downgrade(conn, revision), write=True)


def downgrade(url: str, revision: str) -> None:
    asyncio.run(downgrade_async(url, revision))


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def current_revision_async(url: str) -> str | None:
    if _sqlite_file_missing(url):  # do not create an empty file just to look
        return None
    return await _with_connection(url, _current, write=False)


def current_revision(url: str) -> str | None:
    return asyncio.run(current_revision_async(url))


def table_names(url: str) -> list[str]:
    """The tables in the database (none when a SQLite file does not exist yet)."""
    if _sqlite_file_missing(url):
        return []
    return asyncio.run(
        _with_connection(url, lambda conn: inspect(conn).get_table_names(), write=False)
    )


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "no migration scripts"
    return head


def known_revisions() -> set[str]:
    return {s.revision for s in ScriptDirectory.from_config(alembic_config()).walk_revisions()}


async def is_up_to_date_async(url: str) -> bool:
    return await current_revision_async(url) == head_revision()


def is_up_to_date(url: str) -> bool:
    return asyncio.run(is_up_to_date_async(url))


def describe(current: str | None) -> str | None:
    """Why a database at `current` cannot be used by this code, or None when it can."""
    head = head_revision()
    if current == head:
        return None
    if current is None:
        return (
            f"The database has no schema yet (this version needs revision {head}). "
            "Run `zhupei db upgrade` first."
        )
    if current in known_revisions():
        return (
            f"The database is at revision {current}, behind {head}. Run `zhupei db upgrade` first."
        )
    return (
        f"The database is at revision {current}, which this version does not know: it was "
        "migrated by newer code. Run that version, or restore a backup."
    )


async def ensure_current_async(url: str) -> None:
    problem = describe(await current_revision_async(url))
    if problem:
        raise SchemaNotCurrent(problem)


def ensure_current(url: str) -> None:
    asyncio.run(ensure_current_async(url))


# --- autogenerate ----------------------------------------------------------------------------


def _diff(connection: Connection) -> list[Any]:
    from storage.models import metadata

    mc = MigrationContext.configure(connection, opts=context_options(connection.dialect.name))
    return list(compare_metadata(mc, metadata))


async def autogenerate_check_async(url: str) -> list[Any]:
    return await _with_connection(url, _diff, write=False)


def autogenerate_check(url: str) -> list[Any]:
    """The differences between the models and the database at `url` (empty when in step)."""
    return asyncio.run(autogenerate_check_async(url))


@write_hooks.register("strip_markers")
def _strip_markers(path: str, _options: dict[str, Any]) -> None:
    """Drop Alembic's "### commands auto generated ###" banners."""
    script = Path(path)
    lines = script.read_text().splitlines(keepends=True)
    script.write_text("".join(line for line in lines if not line.strip().startswith("# ###")))


def _revision_config() -> Config:
    cfg = alembic_config()
    ruff = {
        "ruff_format": "format --quiet REVISION_SCRIPT_FILENAME",
        "ruff_fix": "check --fix --quiet REVISION_SCRIPT_FILENAME",
    }
    section = "post_write_hooks"
    cfg.set_section_option(section, "hooks", ", ".join(["strip", *ruff]))
    cfg.set_section_option(section, "strip.type", "strip_markers")
    for name, options in ruff.items():
        cfg.set_section_option(section, f"{name}.type", "module")
        cfg.set_section_option(section, f"{name}.module", "ruff")
        cfg.set_section_option(section, f"{name}.options", options)
    return cfg


async def _autogenerate(message: str, rev_id: str | None, *, at_head: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'autogenerate.db'}"
        if at_head:
            await upgrade_async(url)

        def work(connection: Connection) -> None:
            cfg = _revision_config()
            cfg.attributes["connection"] = connection
            command.revision(cfg, message=message, autogenerate=True, rev_id=rev_id)

        await _with_connection(url, work, write=True)


def revision(message: str, rev_id: str | None = None) -> None:
    """Autogenerate the next migration from the models (compared with a DB at head)."""
    if rev_id is None:
        head = head_revision()
        rev_id = f"{int(head) + 1:04d}" if head.isdigit() else None
    asyncio.run(_autogenerate(message, rev_id, at_head=True))


def regenerate_initial() -> None:
    """Rewrite 0001_initial.py from the models. Only while no database in use depends on it."""
    others = [p for p in (MIGRATIONS_DIR / "versions").glob("[0-9]*.py") if p != INITIAL]
    if others:
        raise SystemExit(f"later migrations exist ({others[0].name}); use `revision` instead")
    backup = INITIAL.read_text() if INITIAL.exists() else None
    INITIAL.unlink(missing_ok=True)
    try:
        asyncio.run(_autogenerate("initial", "0001", at_head=False))
    except BaseException:
        if backup is not None:
            INITIAL.write_text(backup)
        raise


def _check(url: str | None) -> int:
    if url is None:
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{Path(tmp) / 'check.db'}"
            upgrade(url)
            diffs = autogenerate_check(url)
    else:
        diffs = autogenerate_check(url)
    for diff in diffs:
        print(diff)
    print("models and migrations agree" if not diffs else f"{len(diffs)} difference(s)")
    return 1 if diffs else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m storage.migrate",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="cmd", required=True)
    check = sub.add_parser("check", help="diff the models against a database at head")
    check.add_argument("url", nargs="?", help="a migrated database (default: a fresh one)")
    rev = sub.add_parser("revision", help="autogenerate the next migration")
    rev.add_argument("-m", "--message", required=True)
    rev.add_argument("--rev-id", help="default: the number after the head, e.g. 0002")
    sub.add_parser("regenerate", help="rewrite versions/0001_initial.py from the models")
    args = parser.parse_args(argv)
    if args.cmd == "check":
        return _check(args.url)
    if args.cmd == "revision":
        revision(args.message, args.rev_id)
    else:
        regenerate_initial()
    return 0


if __name__ == "__main__":
    sys.exit(main())
