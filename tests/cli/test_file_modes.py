"""What lies on disk is the owner's only: the data directory 0700, the SQLite database (and its
WAL and shared-memory files) and the key file 0600, whatever the process's umask."""

from __future__ import annotations

import asyncio
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.config import Settings
from bot.keys import load_cipher
from storage.db import Database
from tests.cli.conftest import Zhupei


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def lax_umask() -> Iterator[None]:
    """The usual umask (022): files would be world-readable unless created owner-only."""
    before = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(before)


def test_the_sqlite_database_and_its_directory_are_owner_only(
    zhupei: Zhupei, tmp_path: Path, lax_umask: None
) -> None:
    data = tmp_path / "fresh" / "data"
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=data,
        database_url=f"sqlite:///{data / 'zhupei.db'}",  # SQLite whatever DATABASE_URL says
        encryption_key="A" * 43 + "=",
    )
    result = zhupei(settings, "db", "upgrade")
    assert result.code == 0, result.err
    db_file = data / "zhupei.db"
    assert mode(data) == 0o700
    assert mode(db_file) == 0o600

    async def write_and_look() -> dict[str, int]:
        db = Database(settings.resolved_database_url)
        try:
            async with db.transaction() as session:
                await session.execute(
                    text("INSERT INTO bot_info (key, value) VALUES ('username', 'x_bot')")
                )
            return {p.name: mode(p) for p in data.iterdir()}  # the WAL exists while open
        finally:
            await db.dispose()

    modes = asyncio.run(write_and_look())
    assert set(modes) >= {"zhupei.db", "zhupei.db-wal", "zhupei.db-shm"}
    assert modes == dict.fromkeys(modes, 0o600)


def test_the_key_file_and_its_directory_are_owner_only(tmp_path: Path, lax_umask: None) -> None:
    data = tmp_path / "new" / "data"
    load_cipher(Settings(_env_file=None, data_dir=data, encryption_key=None))  # type: ignore[call-arg]
    assert mode(data) == 0o700
    assert mode(data / "zhupei.key") == 0o600


def test_an_existing_directory_is_left_as_the_operator_made_it(
    tmp_path: Path, lax_umask: None
) -> None:
    data = tmp_path / "shared"
    data.mkdir(mode=0o750)
    load_cipher(Settings(_env_file=None, data_dir=data, encryption_key=None))  # type: ignore[call-arg]
    assert mode(data) == 0o750
    assert mode(data / "zhupei.key") == 0o600
