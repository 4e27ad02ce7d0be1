"""aiogram FSM storage in the database, so a half-filled dialog survives a restart.

Inside an update, the DB middleware swaps the handler's FSMContext for one bound to the update's
session: dialog state then commits atomically with the business change it accompanies. Outside an
update, each call is its own short transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder, KeyBuilder, StorageKey
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database
from storage.models import FsmRecord
from workflow.clock import Clock, SystemClock

StateType = str | State | None


def _state_name(state: StateType) -> str | None:
    return state.state if isinstance(state, State) else state


class SessionBoundStorage(BaseStorage):
    """FSM calls within one update, on one ORM row of that update's session: read once, then
    written by the session's flush together with the business change, at most one statement."""

    def __init__(
        self,
        key_builder: KeyBuilder,
        clock: Clock,
        session: AsyncSession,
        known: Mapping[str, FsmRecord | None] | None = None,
    ) -> None:
        self._key_builder = key_builder
        self._clock = clock
        self._session = session
        # Rows the caller read already (the session middleware, with the user's row).
        self._rows: dict[str, FsmRecord | None] = dict(known or {})
        # A rollback (a refusal the dialog handles itself) may discard a pending row or undo a
        # change: read again from the session then.
        session.info.setdefault("on_soft_rollback", []).append(self._forget)

    def _forget(self, *_: Any) -> None:
        self._rows.clear()

    async def _row(self, key: StorageKey) -> tuple[str, FsmRecord | None]:
        k = self._key_builder.build(key)
        if k not in self._rows:
            self._rows[k] = await self._session.get(FsmRecord, k)
        return k, self._rows[k]

    async def _write(self, key: StorageKey, *, state: Any = ..., data: Any = ...) -> None:
        k, row = await self._row(key)
        new_state = (row.state if row else None) if state is ... else _state_name(state)
        new_data = (dict(row.data) if row and row.data else {}) if data is ... else dict(data)
        if new_state is None and not new_data:
            if row is not None:
                if row in self._session.new:
                    self._session.expunge(row)
                else:
                    await self._session.delete(row)
                self._rows[k] = None
            return
        if row is None:
            row = self._rows[k] = FsmRecord(key=k)
            self._session.add(row)
        row.state = new_state
        row.data = new_data  # a new dict: the JSON column sees the change
        row.updated_at = self._clock.now()

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        await self._write(key, state=state)

    async def get_state(self, key: StorageKey) -> str | None:
        _, row = await self._row(key)
        return row.state if row else None

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        await self._write(key, data=data)

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        _, row = await self._row(key)
        return dict(row.data) if row and row.data else {}

    async def close(self) -> None:
        return None


class SqlStorage(BaseStorage):
    def __init__(
        self,
        db: Database,
        *,
        key_builder: KeyBuilder | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.db = db
        self._key_builder = key_builder or DefaultKeyBuilder(with_bot_id=True, with_destiny=True)
        self._clock = clock or SystemClock()

    def key_of(self, key: StorageKey) -> str:
        """The row's key of a dialog (`FsmRecord.key`)."""
        return self._key_builder.build(key)

    def bound(
        self, session: AsyncSession, known: Mapping[str, FsmRecord | None] | None = None
    ) -> SessionBoundStorage:
        return SessionBoundStorage(self._key_builder, self._clock, session, known)

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        async with self.db.transaction() as session:
            await self.bound(session).set_state(key, state)

    async def get_state(self, key: StorageKey) -> str | None:
        async with self.db.transaction() as session:
            return await self.bound(session).get_state(key)

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        async with self.db.transaction() as session:
            await self.bound(session).set_data(key, data)

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        async with self.db.transaction() as session:
            return await self.bound(session).get_data(key)

    async def close(self) -> None:
        return None
