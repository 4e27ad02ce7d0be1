"""aiogram FSM storage in the database, so a half-filled dialog survives a restart.

Inside an update, the DB middleware swaps the handler's FSMContext for one bound to the update's
session: dialog state then commits atomically with the business change it accompanies. Outside
(the first `get_state` of aiogram's FSM middleware), each call is its own short transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder, KeyBuilder, StorageKey
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database
from storage.models import FsmRecord
from storage.upsert import upsert
from workflow.clock import Clock, SystemClock

StateType = str | State | None


def _state_name(state: StateType) -> str | None:
    return state.state if isinstance(state, State) else state


class _SessionOps:
    def __init__(self, key_builder: KeyBuilder, clock: Clock) -> None:
        self.key_builder = key_builder
        self.clock = clock

    async def get(self, session: AsyncSession, key: StorageKey) -> FsmRecord | None:
        return await session.scalar(
            select(FsmRecord).where(FsmRecord.key == self.key_builder.build(key))
        )

    async def write(
        self, session: AsyncSession, key: StorageKey, *, state: Any = ..., data: Any = ...
    ) -> None:
        row = await self.get(session, key)
        new_state = (row.state if row else None) if state is ... else _state_name(state)
        new_data = (dict(row.data) if row and row.data else {}) if data is ... else dict(data)
        if new_state is None and not new_data:
            await session.execute(
                delete(FsmRecord).where(FsmRecord.key == self.key_builder.build(key))
            )
            return
        await upsert(
            session,
            FsmRecord,
            {
                "key": self.key_builder.build(key),
                "state": new_state,
                "data": new_data,
                "updated_at": self.clock.now(),
            },
            ["key"],
            ["state", "data", "updated_at"],
        )
        if row is not None:
            # The upsert bypassed the ORM: forget the stale copy in this session.
            session.expire(row)


class SessionBoundStorage(BaseStorage):
    """FSM calls within one update, in that update's transaction."""

    def __init__(self, ops: _SessionOps, session: AsyncSession) -> None:
        self._ops = ops
        self._session = session

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        await self._ops.write(self._session, key, state=state)

    async def get_state(self, key: StorageKey) -> str | None:
        row = await self._ops.get(self._session, key)
        return row.state if row else None

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        await self._ops.write(self._session, key, data=data)

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        row = await self._ops.get(self._session, key)
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
        self._ops = _SessionOps(
            key_builder or DefaultKeyBuilder(with_bot_id=True, with_destiny=True),
            clock or SystemClock(),
        )

    def bound(self, session: AsyncSession) -> SessionBoundStorage:
        return SessionBoundStorage(self._ops, session)

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        async with self.db.transaction() as session:
            await self._ops.write(session, key, state=state)

    async def get_state(self, key: StorageKey) -> str | None:
        async with self.db.transaction() as session:
            return await self.bound(session).get_state(key)

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        async with self.db.transaction() as session:
            await self._ops.write(session, key, data=data)

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        async with self.db.transaction() as session:
            return await self.bound(session).get_data(key)

    async def close(self) -> None:
        return None
