"""INSERT … ON CONFLICT DO NOTHING on both backends."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def dialect_insert(session: AsyncSession) -> Any:
    """The INSERT construct of the session's backend (with ON CONFLICT support)."""
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def insert_ignoring(session: AsyncSession, table: Any, conflict: str, returning: str) -> Any:
    """`INSERT INTO table … ON CONFLICT (conflict) DO NOTHING RETURNING returning`, built once per
    backend: execute it with the row's values as parameters (on a hot path, building the
    statement cost more than running it)."""
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    return _insert_ignoring(dialect, table, conflict, returning)


@cache
def _insert_ignoring(dialect: str, table: Any, conflict: str, returning: str) -> Any:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (
        insert(table)
        .on_conflict_do_nothing(index_elements=[conflict])
        .returning(table.c[returning])
    )


async def insert_ignore(
    session: AsyncSession, model: type[Any], values: dict[str, Any], conflict: Sequence[str]
) -> bool:
    """Insert a row unless one with the same `conflict` columns exists; True when inserted."""
    table = model.__table__
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(table).values(**values).on_conflict_do_nothing(index_elements=list(conflict))
    result = await session.execute(stmt)
    return bool(result.rowcount)


async def upsert(
    session: AsyncSession,
    model: type[Any],
    values: dict[str, Any],
    conflict: Sequence[str],
    update: Sequence[str],
) -> None:
    """Insert a row, or update the `update` columns of the row with the same `conflict` key."""
    table = model.__table__
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(table).values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=list(conflict), set_={col: stmt.excluded[col] for col in update}
    )
    await session.execute(stmt)
