"""Fixtures of the workflow unit tests: fast password hashing and the reference world."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from tests.conftest import CtxFactory
from tests.factories import World, build_world
from workflow import accounts


@pytest.fixture(autouse=True)
def fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 with the smallest parameters: the rules are under test, not the hash's cost."""
    monkeypatch.setattr(
        accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )


@pytest.fixture
async def world(make_ctx: CtxFactory) -> World:
    async with make_ctx() as ctx:
        return await build_world(ctx)
