"""Fixtures for the command line: each test gets an empty database of its own (a SQLite file,
or with DATABASE_URL on PostgreSQL a database created for the test and dropped after it) and
settings pointing at it. The CLI runs in-process through `bot.cli.main`, which runs its own
event loop, so these tests are plain functions."""

from __future__ import annotations

import asyncio
import base64
import os
import re
import threading
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from pydantic import SecretStr
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from bench.pg import admin_execute
from bot import cli
from bot.config import Settings
from bot.emulator import BotApiEmulator
from storage import migrate
from storage.db import Database, async_url
from tests.conftest import TEST_KEY

T = TypeVar("T")
# The bot's name as Telegram's getMe says it (the emulator's, or stored by a bot that ran), and
# a different BOT_USERNAME setting that links must never use.
BOT = "gd_zhupei_test_bot"
BOT_TOKEN = "424242:cli-test-token"
SETTING_NAME = "zhupei_setting_bot"
LINK = re.compile(rf"https://t\.me/{BOT}\?start=([A-Za-z0-9_-]+)")


def pg_admin_url() -> str | None:
    url = os.environ.get("DATABASE_URL")
    if url and make_url(url).get_backend_name() in {"postgresql", "postgres"}:
        return url
    return None


_pg_admin = admin_execute


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
        bot_username=SETTING_NAME,
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


@dataclass
class BotApi:
    """The project's Bot API emulator on 127.0.0.1, in a thread with its own event loop (the
    CLI runs its own loop in the test's thread)."""

    emulator: BotApiEmulator
    url: str

    def settings(self, settings: Settings) -> Settings:
        """`settings` with BOT_TOKEN and TELEGRAM_API_URL pointing at this emulator."""
        return settings.model_copy(
            update={"bot_token": SecretStr(self.emulator.token), "telegram_api_url": self.url}
        )

    def called(self, method: str) -> int:
        return sum(1 for call in self.emulator.calls if call.method == method)


@pytest.fixture
def bot_api() -> Iterator[BotApi]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="bot-api-emulator", daemon=True)
    thread.start()
    emulator = BotApiEmulator(token=BOT_TOKEN, bot_username=BOT)
    try:
        url = asyncio.run_coroutine_threadsafe(emulator.start("127.0.0.1", 0), loop).result(10)
        yield BotApi(emulator, url)
        asyncio.run_coroutine_threadsafe(emulator.stop(), loop).result(10)
        emulator.assert_no_violations()
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


@pytest.fixture
def no_token(zhupei: Zhupei, migrated: Settings, tmp_path: Path) -> Settings:
    """A migrated database with cities and bases; settings without BOT_TOKEN."""
    from reference.importer import Kind
    from tests.cli.test_import import write_kind

    files = [write_kind(tmp_path, k, "csv") for k in (Kind.CITIES, Kind.BASES)]
    assert zhupei(migrated, "import", *files).code == 0
    return migrated


@pytest.fixture
def with_bases(no_token: Settings, bot_api: BotApi) -> Settings:
    """The same with BOT_TOKEN and TELEGRAM_API_URL pointing at the Bot API emulator."""
    return bot_api.settings(no_token)


def remember_bot(url: str, username: str = BOT, token: str = BOT_TOKEN) -> None:
    """What a bot that ran with `token` on this database left behind: its getMe username."""
    from bot.username import KnownBot, bot_id_of, store
    from workflow.clock import SystemClock

    async def work(session: AsyncSession) -> None:
        await store(session, KnownBot(bot_id_of(token), username), SystemClock())

    in_db(url, work)


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
