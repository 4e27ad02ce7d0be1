"""A throwaway PostgreSQL database for a benchmark run."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator

from sqlalchemy.engine import make_url

from storage.db import async_url


async def _admin(url: str, sql: str) -> None:
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
async def scratch_database(admin_url: str) -> AsyncIterator[str]:
    name = f"zhupei_bench_{uuid.uuid4().hex[:10]}"
    await _admin(admin_url, f'CREATE DATABASE "{name}"')
    try:
        yield (
            make_url(async_url(admin_url)).set(database=name).render_as_string(hide_password=False)
        )
    finally:
        await _admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
