"""SQL pieces the sweeps share: epoch seconds of a timestamp on both backends, and
INSERT … SELECT … ON CONFLICT DO NOTHING into the outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Integer, String, cast, literal
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import ColumnElement, Select
from sqlalchemy.sql.functions import FunctionElement

from storage.models import OutboxMessage
from storage.types import UtcDateTime


class epoch_seconds(FunctionElement[int]):
    """Whole seconds since 1970 of a UTC timestamp column (SQLite keeps naive UTC text)."""

    type = BigInteger()
    inherit_cache = True
    name = "epoch_seconds"


@compiles(epoch_seconds, "sqlite")
def _epoch_sqlite(element: epoch_seconds, compiler: Any, **kw: Any) -> str:
    return f"CAST(strftime('%s', {compiler.process(element.clauses, **kw)}) AS INTEGER)"


@compiles(epoch_seconds, "postgresql")
def _epoch_pg(element: epoch_seconds, compiler: Any, **kw: Any) -> str:
    return f"CAST(FLOOR(EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)})) AS BIGINT)"


def text_of(value: ColumnElement[Any]) -> ColumnElement[str]:
    return cast(value, String)


def lit(value: Any) -> ColumnElement[Any]:
    if isinstance(value, datetime):
        return literal(value, UtcDateTime)
    if isinstance(value, bool):
        return literal(value, Boolean)
    if isinstance(value, int):
        return literal(value, Integer)
    return literal(value, String)


class empty_json(FunctionElement[Any]):
    """An empty JSON object: text on SQLite (where CAST(… AS JSON) would make it a number),
    typed json on PostgreSQL. (A FunctionElement, so statements using it stay cacheable.)"""

    type = JSON()
    inherit_cache = True
    name = "empty_json"


@compiles(empty_json)
def _empty_json(element: empty_json, compiler: Any, **kw: Any) -> str:
    return "'{}'"


@compiles(empty_json, "postgresql")
def _empty_json_pg(element: empty_json, compiler: Any, **kw: Any) -> str:
    return "CAST('{}' AS JSON)"


NULL_TIME = cast(None, UtcDateTime)
EMPTY_PAYLOAD = empty_json()


def outbox_row(
    *,
    dedupe_key: ColumnElement[str],
    account_id: ColumnElement[int],
    kind: str,
    subject: ColumnElement[str],
    now: datetime,
    deadline: ColumnElement[Any] | datetime | None = None,
    urgent: bool = False,
) -> list[ColumnElement[Any]]:
    """The select list of one outbox row, in the order of OUTBOX_COLUMNS."""
    if deadline is None:
        deadline_col: ColumnElement[Any] = NULL_TIME
    elif isinstance(deadline, datetime):
        deadline_col = lit(deadline)
    else:
        deadline_col = deadline
    return [
        dedupe_key.label("dedupe_key"),
        account_id.label("account_id"),
        lit(kind).label("kind"),
        subject.label("subject"),
        EMPTY_PAYLOAD.label("payload"),
        lit(urgent).label("urgent"),
        deadline_col.label("deadline_at"),
        lit("pending").label("status"),
        lit(0).label("attempts"),
        lit(now).label("created_at"),
    ]


OUTBOX_COLUMNS = [
    "dedupe_key",
    "account_id",
    "kind",
    "subject",
    "payload",
    "urgent",
    "deadline_at",
    "status",
    "attempts",
    "created_at",
]


async def enqueue_select(session: AsyncSession, rows: Select[Any]) -> int:
    """INSERT INTO outbox SELECT … ON CONFLICT (dedupe_key) DO NOTHING; the rows inserted.

    `rows` must have a WHERE clause: SQLite would otherwise read ON CONFLICT as a join's ON.
    """
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert_ = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = (
        insert_(OutboxMessage.__table__)  # type: ignore[attr-defined]
        .from_select(OUTBOX_COLUMNS, rows)
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
    )
    result = await session.execute(stmt)
    return max(result.rowcount or 0, 0)
