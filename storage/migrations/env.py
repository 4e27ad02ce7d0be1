"""Alembic environment: online migrations on the app's async drivers, through `run_sync`.

`storage.migrate` normally hands over an open connection in `config.attributes["connection"]`;
otherwise the URL comes from `config.attributes["url"]`, `-x url=…` or DATABASE_URL.
"""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy.engine import Connection

from storage import migrate
from storage.models import metadata

config = context.config
target_metadata = metadata


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        **migrate.context_options(connection.dialect.name),
    )
    with context.begin_transaction():
        migrate.lock_for_migration(connection)
        context.run_migrations()


def _url() -> str:
    url = (
        config.attributes.get("url")
        or context.get_x_argument(as_dictionary=True).get("url")
        or os.environ.get("DATABASE_URL")
    )
    if not url:
        raise SystemExit("no database URL: pass -x url=… or set DATABASE_URL")
    return url


async def run_async_migrations() -> None:
    engine = migrate.migration_engine(_url())
    try:
        async with engine.connect() as connection:
            await connection.run_sync(run_migrations)
            await connection.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported")

connection = config.attributes.get("connection")
if connection is not None:
    run_migrations(connection)
else:
    asyncio.run(run_async_migrations())
