"""Dialog state in the database: what a rolled-back transaction wrote is gone, what was committed
stays, and the dialog goes on writing after a rollback."""

from __future__ import annotations

from aiogram.fsm.storage.base import StorageKey
from sqlalchemy import select

from bot.fsm_storage import SqlStorage
from storage.db import Database
from storage.models import FsmRecord
from workflow.clock import FrozenClock

KEY = StorageKey(bot_id=1, chat_id=42, user_id=42)


async def test_state_survives_rollbacks_in_one_session(db: Database, clock: FrozenClock) -> None:
    storage = SqlStorage(db, clock=clock)
    async with db.session() as session:
        fsm = storage.bound(session)
        # A new row, rolled back, then written again: it must be saved.
        await fsm.set_state(KEY, "Reg:name")
        await session.rollback()
        assert await fsm.get_state(KEY) is None
        await fsm.set_state(KEY, "Reg:name")
        await fsm.set_data(KEY, {"name": "李雷"})
        await session.commit()
        # A change rolled back: the committed values are read again.
        await fsm.set_data(KEY, {"name": "韩梅梅"})
        await session.rollback()
        assert await fsm.get_data(KEY) == {"name": "李雷"}
        # A clear rolled back: the row is back.
        await fsm.set_state(KEY, None)
        await fsm.set_data(KEY, {})
        await session.rollback()
        assert await fsm.get_state(KEY) == "Reg:name"
        await fsm.set_state(KEY, "Reg:id_type")
        await session.commit()
    assert await storage.get_state(KEY) == "Reg:id_type"
    assert await storage.get_data(KEY) == {"name": "李雷"}
    await storage.set_state(KEY, None)
    await storage.set_data(KEY, {})
    async with db.transaction() as session:
        assert (await session.scalars(select(FsmRecord))).all() == []
