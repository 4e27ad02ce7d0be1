"""Shared fixtures: a real database per test (SQLite file by default, PostgreSQL when
DATABASE_URL points at one), a controlled clock, keys, and a workflow context."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

import storage.models as models
from bench.pg import admin_execute
from storage.crypto import FieldCipher
from storage.db import Database, async_url
from workflow.clock import FrozenClock
from workflow.context import Ctx

SHANGHAI = ZoneInfo("Asia/Shanghai")
TEST_KEY = bytes(range(32))


def pytest_report_header(config: pytest.Config) -> str:
    return f"database: {backend_label()}"


def backend_label() -> str:
    url = os.environ.get("DATABASE_URL")
    return make_url(url).get_backend_name() if url else "sqlite (file per test)"


@pytest.fixture(scope="session")
def pg_database_url() -> Iterator[str | None]:
    """With DATABASE_URL on PostgreSQL, one throwaway database for the whole run."""
    url = os.environ.get("DATABASE_URL")
    if not url or make_url(url).get_backend_name() == "sqlite":
        yield None
        return
    admin = make_url(async_url(url))
    name = f"zhupei_test_{uuid.uuid4().hex[:10]}"

    asyncio.run(admin_execute(url, f'CREATE DATABASE "{name}"'))
    test_url = admin.set(database=name).render_as_string(hide_password=False)

    async def create_schema() -> None:
        db = Database(test_url)
        async with db.engine.begin() as conn:
            await conn.run_sync(models.metadata.create_all)
        await db.dispose()

    asyncio.run(create_schema())
    yield test_url
    asyncio.run(admin_execute(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return path


@pytest.fixture
def database_url(pg_database_url: str | None, data_dir: Path) -> str:
    return pg_database_url or f"sqlite:///{data_dir / 'zhupei.db'}"


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    if database.backend == "postgresql":
        tables = ", ".join(f'"{t.name}"' for t in models.metadata.sorted_tables)
        async with database.engine.begin() as conn:
            await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    else:
        async with database.engine.begin() as conn:
            await conn.run_sync(models.metadata.create_all)
    yield database
    await database.dispose()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 7, 1, 10, 0, tzinfo=SHANGHAI))


@pytest.fixture
def cipher() -> FieldCipher:
    return FieldCipher(TEST_KEY)


CtxFactory = Callable[[], AbstractAsyncContextManager[Ctx]]


@pytest.fixture
def make_ctx(db: Database, clock: FrozenClock, cipher: FieldCipher, data_dir: Path) -> CtxFactory:
    """`async with make_ctx() as ctx:` is one transaction, committed when the block ends."""

    @asynccontextmanager
    async def factory() -> AsyncIterator[Ctx]:
        async with db.transaction() as session:
            yield Ctx(session=session, clock=clock, cipher=cipher, upload_dir=data_dir / "files")

    return factory


@pytest.fixture
async def app(db: Database, cipher: FieldCipher, clock: FrozenClock, data_dir: Path):  # type: ignore[no-untyped-def]
    """The running bot against the Bot API emulator (see tests/harness.py)."""
    from tests.harness import running_bot

    async with running_bot(db, cipher, clock, data_dir) as harness:
        yield harness


def redis_url_or_skip() -> str:
    """Redis for the tests that need it; skipped on a machine without it, except in CI."""
    import socket
    from urllib.parse import urlsplit

    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    parts = urlsplit(url)
    try:
        socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), 1).close()
    except OSError:
        if os.environ.get("ZHUPEI_REQUIRE_SERVICES"):
            raise
        pytest.skip("Redis is not running on this machine")
    return url
