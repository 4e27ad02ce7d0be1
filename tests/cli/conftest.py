"""Fixtures for the command line: each test gets an empty database of its own (a SQLite file,
or with DATABASE_URL on PostgreSQL a database created for the test and dropped after it) and
settings pointing at it. The CLI runs in-process through `bot.cli.main`, which runs its own
event loop, so these tests are plain functions."""

from __future__ import annotations

import asyncio
import base64
import os
import re
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from bot import cli
from bot.config import Settings
from storage import migrate
from storage.db import Database, async_url
from tests.conftest import TEST_KEY

T = TypeVar("T")
BOT = "zhupei_test_bot"
LINK = re.compile(rf"https://t\.me/{BOT}\?start=([A-Za-z0-9_-]+)")


def pg_admin_url() -> str | None:
    url = os.environ.get("DATABASE_URL")
    if url and make_url(url).get_backend_name() in {"postgresql", "postgres"}:
        return url
    return None


async def _pg_admin(url: str, sql: str) -> None:
    import asyncpg

    admin = make_url(async_url(url))
    conn = await asyncpg.connect(
        host=admin.host,
        port=admin.port or 5432,
        user=admin.username,
        password=admin.password,
        database=admin.database,
    )
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture
def fresh_pg_url() -> Iterator[str]:
    """A new, empty PostgreSQL database (skipped without DATABASE_URL)."""
    admin = pg_admin_url()
    if admin is None:
        pytest.skip("DATABASE_URL does not point at PostgreSQL")
    name = f"zhupei_cli_{uuid.uuid4().hex[:10]}"
    asyncio.run(_pg_admin(admin, f'CREATE DATABASE "{name}"'))
    yield make_url(async_url(admin)).set(database=name).render_as_string(hide_password=False)
    asyncio.run(_pg_admin(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def sqlite_url(data_dir: Path) -> str:
    return f"sqlite:///{data_dir / 'zhupei.db'}"


@pytest.fixture
def empty_url(request: pytest.FixtureRequest, sqlite_url: str) -> str:
    """An empty database on the backend of the run."""
    if pg_admin_url() is None:
        return sqlite_url
    return request.getfixturevalue("fresh_pg_url")


def make_settings(url: str, data_dir: Path) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=data_dir,
        database_url=url,
        bot_username=BOT,
        encryption_key=base64.b64encode(TEST_KEY).decode(),
    )


@pytest.fixture
def settings(empty_url: str, data_dir: Path) -> Settings:
    return make_settings(empty_url, data_dir)


@pytest.fixture
def migrated(settings: Settings) -> Settings:
    migrate.upgrade(settings.resolved_database_url)
    return settings


@dataclass
class Outcome:
    code: int
    out: str
    err: str


Zhupei = Callable[..., Outcome]


@pytest.fixture
def zhupei(capsys: pytest.CaptureFixture[str]) -> Zhupei:
    """`zhupei(settings, "db", "upgrade")` runs the command in-process."""

    def run(settings: Settings, *argv: Any) -> Outcome:
        capsys.readouterr()
        code = cli.main([str(a) for a in argv], settings=settings)
        captured = capsys.readouterr()
        return Outcome(code, captured.out, captured.err)

    return run


def in_db(url: str, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `work` in one committed transaction on a database of its own event loop."""

    async def go() -> T:
        db = Database(url)
        try:
            async with db.transaction() as session:
                return await work(session)
        finally:
            await db.dispose()

    return asyncio.run(go())
