"""Engines and sessions for SQLite (the default) and PostgreSQL.

SQLite is made safe for a burst of concurrent updates: WAL, a long busy timeout, one pooled
connection per process (sessions queue in asyncio instead of spinning in SQLite's busy handler),
and `BEGIN IMMEDIATE` so a transaction takes the write lock up front instead of failing when it
upgrades from reading to writing. Handlers keep transactions short: they commit before they talk
to Telegram.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Generic, TypeVar

import aiosqlite
from aiosqlite.context import contextmanager as aiosqlite_result
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import ORMExecuteState, Session

log = logging.getLogger(__name__)

T = TypeVar("T")

SQLITE_BUSY_TIMEOUT_MS = 30_000


def async_url(url: str) -> str:
    """Accept the ordinary URL forms and pick the async driver."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite").render_as_string(hide_password=False)
    if backend in {"postgresql", "postgres"}:
        return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)
    raise ValueError(f"unsupported database backend: {backend}")


def sync_url(url: str) -> str:
    """The same database for tools that want a blocking driver (none in the app itself)."""
    parsed = make_url(async_url(url))
    return parsed.set(drivername=parsed.get_backend_name()).render_as_string(hide_password=False)


class _OneHopCursor:
    """An aiosqlite cursor that costs one trip to the connection's thread per statement.

    aiosqlite's own makes a trip to create the cursor, one to execute, one to fetch and one to
    close, each a queue put, a thread wake-up and a wake-up of the event loop; SQLAlchemy's
    adapter fetches every row right after executing anyway (no server-side cursors here). This
    one creates, executes, fetches and closes the sqlite3 cursor in a single trip and keeps the
    rows, the description, the row count and the last row id for SQLAlchemy to read."""

    arraysize = 1

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn
        self._rows: list[Any] = []
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None

    def _run(self, begin: str | None, method: str, sql: str, parameters: Any) -> None:
        cursor = self._conn._conn.cursor()
        try:
            if begin is not None:
                cursor.execute(begin)
            getattr(cursor, method)(sql, parameters)
            self.description = cursor.description
            self._rows = cursor.fetchall() if cursor.description else []
            self.rowcount, self.lastrowid = cursor.rowcount, cursor.lastrowid
        finally:
            cursor.close()

    async def execute(self, sql: str, parameters: Any = ()) -> _OneHopCursor:
        begin = self._conn.take_begin()
        await self._conn._execute(self._run, begin, "execute", sql, parameters)
        return self

    async def executemany(self, sql: str, parameters: Any) -> _OneHopCursor:
        begin = self._conn.take_begin()
        await self._conn._execute(self._run, begin, "executemany", sql, parameters)
        return self

    async def fetchone(self) -> Any:
        return self._rows.pop(0) if self._rows else None

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        size = size or self.arraysize
        rows, self._rows = self._rows[:size], self._rows[size:]
        return rows

    async def fetchall(self) -> list[Any]:
        rows, self._rows = self._rows, []
        return rows

    async def close(self) -> None:
        self._rows = []

    async def __aenter__(self) -> _OneHopCursor:
        return self

    async def __aexit__(self, *_: Any) -> None:
        await self.close()


class _OneHopConnection(aiosqlite.Connection):
    """A transaction's `BEGIN` goes with its first statement, in the same trip: a transaction
    that runs no statement costs no trip at all."""

    _begin: str | None = None

    def begin_with_next(self, sql: str) -> None:
        self._begin = sql

    def take_begin(self) -> str | None:
        begin, self._begin = self._begin, None
        return begin

    @aiosqlite_result
    async def cursor(self) -> Any:  # type: ignore[override]
        return _OneHopCursor(self)

    async def commit(self) -> None:
        if self.take_begin() is None:
            await super().commit()

    async def rollback(self) -> None:
        if self.take_begin() is None:
            await super().rollback()


def _sqlite_creator(url: str) -> Callable[[], Awaitable[aiosqlite.Connection]]:
    """What SQLAlchemy's aiosqlite dialect would connect with, on `_OneHopConnection`."""
    from sqlalchemy.dialects.sqlite.aiosqlite import SQLiteDialect_aiosqlite

    args, kwargs = SQLiteDialect_aiosqlite().create_connect_args(make_url(url))

    async def connect() -> aiosqlite.Connection:
        conn = _OneHopConnection(lambda: sqlite3.connect(*args, **kwargs), iter_chunk_size=64)
        conn._thread.daemon = True
        return await conn

    return connect


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event issue the BEGIN: pysqlite's own is deferred.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA synchronous = NORMAL")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        driver = conn.connection.driver_connection
        if isinstance(driver, _OneHopConnection):
            driver.begin_with_next("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")


def prepare_sqlite_file(database: str | None) -> None:
    """Create a SQLite database file owner-only (0600), in a directory created owner-only
    (0700): it holds the personal data (encrypted) and everything else. SQLite gives its -wal
    and -shm files the mode of the database file. Existing files and directories are left as
    they are."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    os.close(fd)  # an empty file is an empty SQLite database


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    url = async_url(url)
    backend = make_url(url).get_backend_name()
    if backend == "sqlite":
        database = make_url(url).database
        prepare_sqlite_file(database)
        engine = create_async_engine(
            url,
            async_creator=_sqlite_creator(url),
            echo=echo,
            hide_parameters=True,
            pool_size=1,
            max_overflow=0,
            pool_timeout=60,
        )
        _configure_sqlite(engine)
        return engine
    return create_async_engine(
        url,
        echo=echo,
        hide_parameters=True,
        pool_size=10,
        max_overflow=10,
        pool_pre_ping=True,
    )


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, OperationalError) and "database is locked" in str(exc.orig):
        return True
    if isinstance(exc, DBAPIError):
        sqlstate = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
        return sqlstate in {"40001", "40P01"}  # serialization failure, deadlock
    return False


class UnitSyncSession(Session):
    """The sync side of `UnitSession`. Its events go to whoever registered in `info` (the
    update's unit, the dialog-state rows): listeners set once on the class, since a listener
    set on one session instance costs about as much to set up as a short transaction."""


@event.listens_for(UnitSyncSession, "before_flush")
def _before_flush(session: Session, *_: Any) -> None:
    unit = session.info.get("unit")
    if unit is not None:
        unit.on_flush(session)


@event.listens_for(UnitSyncSession, "do_orm_execute")
def _do_orm_execute(state: ORMExecuteState) -> None:
    unit = state.session.info.get("unit")
    if unit is not None:
        unit.on_execute(state)


@event.listens_for(UnitSyncSession, "after_soft_rollback")
def _after_soft_rollback(session: Session, *_: Any) -> None:
    for forget in session.info.get("on_soft_rollback", ()):
        forget()


class UnitSession(AsyncSession):
    """The app's session class. Inside a unit of work (an update being handled: the unit sits in
    `session.info["unit"]`), `commit()` marks a boundary and `rollback()` returns to the last
    one; the unit itself commits once, at its end."""

    async def commit(self) -> None:
        unit = self.info.get("unit")
        if unit is None or unit.closing:
            return await super().commit()
        await unit.boundary()

    async def rollback(self) -> None:
        unit = self.info.get("unit")
        if unit is None or unit.closing:
            return await super().rollback()
        await unit.undo()


class Database:
    """One engine and its session factory; the only way the app reaches the database."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = async_url(url)
        self.engine = create_engine(url, echo=echo)
        self.sessions = async_sessionmaker(
            self.engine,
            expire_on_commit=False,
            class_=UnitSession,
            sync_session_class=UnitSyncSession,
        )

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    def session(self) -> AsyncSession:
        return self.sessions()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session whose transaction commits on success and rolls back on error."""
        async with self.sessions() as session, session.begin():
            yield session

    async def run(self, work: Callable[[AsyncSession], Awaitable[T]], *, attempts: int = 5) -> T:
        """Run `work` in a transaction, retrying the whole unit on a transient conflict."""
        for attempt in range(1, attempts + 1):
            try:
                async with self.transaction() as session:
                    return await work(session)
            except DBAPIError as exc:
                if attempt == attempts or not is_transient(exc):
                    raise
                log.warning("transient database conflict, retrying (attempt %d)", attempt)
                await asyncio.sleep(0.05 * 2**attempt)
        raise AssertionError("unreachable")

    async def dispose(self) -> None:
        await self.engine.dispose()


class GroupCommit(Generic[T]):
    """Small writes of many tasks, many in one transaction (a group commit): `add` returns once
    its item is written. Nothing waits on purpose: the items that come while one transaction is
    being written go together in the next, so under load one transaction carries many and alone
    an item is written at once; with `gather_seconds`, a transaction waits that long for more."""

    def __init__(
        self,
        db: Database,
        write: Callable[[AsyncSession, list[T]], Awaitable[None]],
        *,
        gather_seconds: float = 0.0,
    ) -> None:
        self.db = db
        self.write = write
        self.gather_seconds = gather_seconds
        self.transactions = 0
        self._pending: list[tuple[T, asyncio.Future[None]]] = []
        self._task: asyncio.Task[None] | None = None

    async def add(self, item: T) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        if self._task is None:
            self._task = asyncio.create_task(self._write_all(), name="group-commit")
        await future

    async def _write_all(self) -> None:
        try:
            while self._pending:
                if self.gather_seconds:
                    await asyncio.sleep(self.gather_seconds)
                batch, self._pending = self._pending, []
                try:
                    async with self.db.transaction() as session:
                        await self.write(session, [item for item, _ in batch])
                    self.transactions += 1
                except BaseException as exc:
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    if not isinstance(exc, Exception):
                        raise
                else:
                    for _, future in batch:
                        if not future.done():
                            future.set_result(None)
        finally:
            self._task = None
