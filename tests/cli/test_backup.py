"""`zhupei db backup` / `db restore`: data made, backed up, restored into a fresh database and
found there. SQLite through the online backup API; PostgreSQL through pg_dump/pg_restore on
throwaway databases."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from storage import migrate
from storage.db import Database, async_url
from storage.models import City
from tests.cli.conftest import Zhupei, _pg_admin, in_db, make_settings, pg_admin_url


async def add_city(session: AsyncSession) -> None:
    session.add(City(code="4401", name="广州市"))


async def _city_names(session: AsyncSession) -> list[str]:
    return list((await session.scalars(select(City.name))).all())


def cities(url: str) -> list[str]:
    return in_db(url, _city_names)


def backup_and_restore(zhupei: Zhupei, source: Settings, target: Settings, path: Path) -> None:
    in_db(source.resolved_database_url, add_city)
    made = zhupei(source, "db", "backup", path)
    assert made.code == 0, made.err
    assert path.stat().st_size > 0 and path.stat().st_mode & 0o077 == 0

    restored = zhupei(target, "db", "restore", path)
    assert restored.code == 0, restored.err
    assert cities(target.resolved_database_url) == ["广州市"]
    assert migrate.is_up_to_date(target.resolved_database_url)
    again = zhupei(target, "db", "restore", path)  # a database with data is not overwritten
    assert again.code == 1 and "not empty" in again.err


def test_sqlite_backup_and_restore(tmp_path: Path, zhupei: Zhupei) -> None:
    source = make_settings(f"sqlite:///{tmp_path / 'live' / 'zhupei.db'}", tmp_path / "live")
    target = make_settings(f"sqlite:///{tmp_path / 'new' / 'zhupei.db'}", tmp_path / "new")
    migrate.upgrade(source.resolved_database_url)
    backup_and_restore(zhupei, source, target, tmp_path / "backups" / "zhupei.sqlite3")
    refused = zhupei(source, "db", "backup", tmp_path / "backups" / "zhupei.sqlite3")
    assert refused.code == 1 and "exists already" in refused.err


def test_restore_refuses_a_file_that_is_no_backup(tmp_path: Path, zhupei: Zhupei) -> None:
    target = make_settings(f"sqlite:///{tmp_path / 'zhupei.db'}", tmp_path)
    bogus = tmp_path / "notes.txt"
    bogus.write_text("not a database")
    outcome = zhupei(target, "db", "restore", bogus)
    assert outcome.code == 1 and "not a SQLite database" in outcome.err


def test_postgresql_backup_and_restore(tmp_path: Path, zhupei: Zhupei) -> None:
    admin = pg_admin_url()
    if admin is None:
        pytest.skip("DATABASE_URL does not point at PostgreSQL")
    if not (shutil.which("pg_dump") and shutil.which("pg_restore")) and not os.environ.get("CI"):
        pytest.skip("pg_dump/pg_restore are not installed")
    names = [f"zhupei_bak_{uuid.uuid4().hex[:10]}" for _ in range(2)]
    for name in names:
        asyncio.run(_pg_admin(admin, f'CREATE DATABASE "{name}"'))
    try:
        source, target = (
            make_settings(
                make_url(async_url(admin)).set(database=n).render_as_string(hide_password=False),
                tmp_path,
            )
            for n in names
        )
        migrate.upgrade(source.resolved_database_url)
        backup_and_restore(zhupei, source, target, tmp_path / "zhupei.dump")
    finally:
        for name in names:
            asyncio.run(_pg_admin(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_backup_of_a_running_sqlite_database_is_consistent(tmp_path: Path, zhupei: Zhupei) -> None:
    """The online backup copies committed data while a connection holds the database open."""
    source = make_settings(f"sqlite:///{tmp_path / 'zhupei.db'}", tmp_path)
    migrate.upgrade(source.resolved_database_url)

    async def go() -> None:
        db = Database(source.resolved_database_url)
        try:
            async with db.transaction() as session:
                await add_city(session)
            # WAL mode: the row may still be only in the -wal file; the backup must see it.
            made = await asyncio.to_thread(
                zhupei, source, "db", "backup", tmp_path / "copy.sqlite3"
            )
            assert made.code == 0, made.err
        finally:
            await db.dispose()

    asyncio.run(go())
    copy = f"sqlite:///{tmp_path / 'copy.sqlite3'}"
    assert cities(copy) == ["广州市"]
