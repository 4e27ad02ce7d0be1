"""`zhupei db …`: the migrations build the schema the models declare, on both backends, and
every other command refuses a database that is not at the head revision."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from pydantic import SecretStr
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

import storage.models as models
from bot.config import Settings
from storage import migrate
from storage.db import Database
from tests.cli.conftest import Zhupei, in_db, make_settings

HEAD = migrate.head_revision()  # the newest migration, which upgrades reach

PARTIAL_INDEXES = {
    "uq_application_one_admission_per_year",
    "uq_allocation_offer_open",
    "ix_outbox_waiting",
}


def _schema_report(connection: Connection) -> tuple[list[object], dict[str, str]]:
    mc = MigrationContext.configure(connection, opts={"compare_type": True})
    diffs = compare_metadata(mc, models.metadata)
    if connection.dialect.name == "sqlite":
        rows = connection.execute(text("SELECT name, sql FROM sqlite_master WHERE type='index'"))
    else:
        rows = connection.execute(text("SELECT indexname, indexdef FROM pg_indexes"))
    indexes = {name: sql for name, sql in rows if name in PARTIAL_INDEXES}
    return list(diffs), indexes


def schema_report(url: str) -> tuple[list[object], dict[str, str]]:
    async def go() -> tuple[list[object], dict[str, str]]:
        db = Database(url)
        try:
            async with db.engine.connect() as conn:
                return await conn.run_sync(_schema_report)
        finally:
            await db.dispose()

    return asyncio.run(go())


def _upgrade_builds_the_models(zhupei: Zhupei, settings: Settings) -> None:
    url = settings.resolved_database_url
    result = zhupei(settings, "db", "upgrade")
    assert result.code == 0, result.err
    assert f"upgraded from an empty database to {HEAD}" in result.out

    diffs, partial = schema_report(url)
    assert diffs == []
    assert set(partial) == PARTIAL_INDEXES
    assert all("WHERE" in sql.upper() for sql in partial.values())
    assert migrate.current_revision(url) == migrate.head_revision()
    assert migrate.is_up_to_date(url)

    again = zhupei(settings, "db", "upgrade")
    assert again.code == 0 and f"already at revision {HEAD}" in again.out


def test_upgrade_on_sqlite_builds_the_models(
    zhupei: Zhupei, sqlite_url: str, data_dir: Path
) -> None:
    _upgrade_builds_the_models(zhupei, make_settings(sqlite_url, data_dir))


def test_upgrade_on_postgresql_builds_the_models(
    zhupei: Zhupei, fresh_pg_url: str, data_dir: Path
) -> None:
    _upgrade_builds_the_models(zhupei, make_settings(fresh_pg_url, data_dir))


def test_downgrade_to_nothing_and_back(migrated: Settings) -> None:
    url = migrated.resolved_database_url
    migrate.downgrade(url, "base")
    assert migrate.current_revision(url) is None

    async def tables() -> list[str]:
        db = Database(url)
        try:
            async with db.engine.connect() as conn:
                return await conn.run_sync(lambda c: inspect(c).get_table_names())
        finally:
            await db.dispose()

    assert asyncio.run(tables()) == ["alembic_version"]
    migrate.upgrade(url)
    assert migrate.autogenerate_check(url) == []


def test_the_check_helper_agrees_with_the_models() -> None:
    assert migrate.main(["check"]) == 0


def test_db_current_says_what_to_do(zhupei: Zhupei, settings: Settings) -> None:
    before = zhupei(settings, "db", "current")
    assert before.code == 0
    assert "current:  none" in before.out and "zhupei db upgrade" in before.out
    zhupei(settings, "db", "upgrade")
    after = zhupei(settings, "db", "current")
    assert f"current:  {HEAD}" in after.out and "up to date" in after.out


@pytest.mark.parametrize(
    "argv",
    [
        ["invite", "--role", "province", "--name", "省卫健委"],
        ["import", str(Path(migrate.__file__).with_name("data") / "cities.csv")],
        ["demo-data"],
        ["run"],
    ],
    ids=["invite", "import", "demo-data", "run"],
)
def test_commands_refuse_a_database_without_the_schema(
    zhupei: Zhupei, settings: Settings, argv: list[str]
) -> None:
    # With a token: the sandbox (no token) upgrades its own database in bot.runner.
    settings = settings.model_copy(update={"bot_token": SecretStr("123456:test-token")})
    result = zhupei(settings, *argv)
    assert result.code == 1
    assert "zhupei db upgrade" in result.err
    assert "Traceback" not in result.err
    assert migrate.current_revision(settings.resolved_database_url) is None


def test_tables_without_a_revision_are_behind(zhupei: Zhupei, settings: Settings) -> None:
    url = settings.resolved_database_url

    async def create_all() -> None:
        db = Database(url)
        async with db.engine.begin() as conn:
            await conn.run_sync(models.metadata.create_all)
        await db.dispose()

    asyncio.run(create_all())
    result = zhupei(settings, "invite", "--role", "province", "--name", "省卫健委")
    assert result.code == 1 and "zhupei db upgrade" in result.err
    upgrade = zhupei(settings, "db", "upgrade")
    assert upgrade.code == 1 and "tables but no migration revision" in upgrade.err


def test_an_unknown_revision_is_refused_even_by_upgrade(zhupei: Zhupei, migrated: Settings) -> None:
    url = migrated.resolved_database_url

    async def stamp(session) -> None:  # type: ignore[no-untyped-def]
        await session.execute(text("UPDATE alembic_version SET version_num = 'f00d'"))

    in_db(url, stamp)
    for argv in (["demo-data"], ["db", "upgrade"]):
        result = zhupei(migrated, *argv)
        assert result.code == 1
        assert "f00d" in result.err and "newer code" in result.err


def test_usage_errors_exit_2(zhupei: Zhupei, settings: Settings) -> None:
    assert zhupei(settings).code == 2
    assert zhupei(settings, "frobnicate").code == 2
    assert zhupei(settings, "db").code == 2
    assert zhupei(settings, "import", "x.csv", "--kind", "people").code == 2
    assert zhupei(settings, "--help").code == 0


def test_console_script_smoke(tmp_path: Path) -> None:
    """The installed `zhupei` entry point, once, in a process of its own."""
    script = Path(sys.executable).with_name("zhupei")
    env = {
        **os.environ,
        "DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'data' / 'smoke.db'}",
    }
    done = subprocess.run(
        [str(script), "db", "upgrade"], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert f"to {HEAD} (head)" in done.stdout
    assert migrate.is_up_to_date(env["DATABASE_URL"])


def test_run_hands_over_to_the_runner(
    zhupei: Zhupei, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot import runner

    calls: list[Settings] = []
    monkeypatch.setattr(runner, "run", calls.append)
    # The sandbox (no token) may start on an empty database: the runner upgrades it.
    assert zhupei(settings, "run").code == 0
    with_token = settings.model_copy(update={"bot_token": SecretStr("123456:test-token")})
    assert zhupei(with_token, "run").code == 1
    migrate.upgrade(settings.resolved_database_url)
    assert zhupei(with_token, "run").code == 0
    assert calls == [settings, with_token]
