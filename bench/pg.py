"""Throwaway databases for a benchmark run: a SQLite file or a PostgreSQL database, created
with the models' schema and removed afterwards."""

from __future__ import annotations

import contextlib
import tempfile
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

from sqlalchemy.engine import make_url

from storage import models
from storage.db import Database, async_url


async def admin_execute(url: str, sql: str) -> None:
    """One statement on the server's maintenance connection (CREATE/DROP DATABASE)."""
    import asyncpg

    u = make_url(async_url(url))
    conn = await asyncpg.connect(
        host=u.host, port=u.port or 5432, user=u.username, password=u.password, database=u.database
    )
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@contextlib.asynccontextmanager
async def scratch_database(
    admin_url: str, *, prefix: str = "zhupei_scratch", create_schema: bool = False
) -> AsyncIterator[str]:
    """A database beside `admin_url`'s, dropped afterwards; its (async) URL. With
    `create_schema`, the models' tables are created in it."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    await admin_execute(admin_url, f'CREATE DATABASE "{name}"')
    url = make_url(async_url(admin_url)).set(database=name).render_as_string(hide_password=False)
    try:
        if create_schema:
            db = Database(url)
            async with db.engine.begin() as conn:
                await conn.run_sync(models.metadata.create_all)
            await db.dispose()
        yield url
    finally:
        await admin_execute(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.asynccontextmanager
async def database(backend: str, pg_url: str | None) -> AsyncIterator[Database]:
    if backend == "postgresql":
        assert pg_url
        async with scratch_database(pg_url, prefix="zhupei_bench") as url:
            db = Database(url)
            async with db.engine.begin() as conn:
                await conn.run_sync(models.metadata.create_all)
            yield db
            await db.dispose()
        return
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'bench.db'}")
        async with db.engine.begin() as conn:
            await conn.run_sync(models.metadata.create_all)
        yield db
        await db.dispose()
