"""Fixtures of the scheduler tests: fast password hashing, the reference world, services on the
test's database with its controlled clock, and a look at the outbox."""

from __future__ import annotations

from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from bot.config import Settings
from bot.fsm_storage import SqlStorage
from bot.services import Services
from storage.crypto import FieldCipher
from storage.db import Database
from storage.models import OutboxMessage
from tests.conftest import CtxFactory
from tests.factories import World, build_world
from workflow import accounts
from workflow.clock import FrozenClock


@pytest.fixture(autouse=True)
def fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 with the smallest parameters: the scheduler is under test, not the hash's cost."""
    monkeypatch.setattr(
        accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )


@pytest.fixture
async def world(make_ctx: CtxFactory) -> World:
    async with make_ctx() as ctx:
        return await build_world(ctx)


@pytest.fixture
def services(db: Database, cipher: FieldCipher, clock: FrozenClock, data_dir: Path) -> Services:
    settings = Settings(_env_file=None, data_dir=data_dir, database_url=db.url, bot_token=None)
    return Services(
        settings=settings,
        db=db,
        cipher=cipher,
        clock=clock,
        fsm_storage=SqlStorage(db, clock=clock),
    )


async def outbox(db: Database, **where: object) -> list[OutboxMessage]:
    """The outbox rows matching `where` (column=value), oldest first."""
    async with db.transaction() as session:
        stmt = select(OutboxMessage).order_by(OutboxMessage.id)
        for column, value in where.items():
            stmt = stmt.where(getattr(OutboxMessage, column) == value)
        return list((await session.scalars(stmt)).all())
