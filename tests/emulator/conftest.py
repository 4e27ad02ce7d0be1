"""Fixtures for the emulator's own tests: a started emulator and a direct Bot client."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Bot

from bot.emulator import BotApiEmulator
from bot.emulator.harness import make_bot


@pytest.fixture
async def emulator() -> AsyncIterator[BotApiEmulator]:
    async with BotApiEmulator() as emu:
        yield emu


@pytest.fixture
async def bot(emulator: BotApiEmulator) -> AsyncIterator[Bot]:
    """A Bot calling the emulator directly, with no dispatcher polling."""
    client = make_bot(emulator)
    try:
        yield client
    finally:
        await client.session.close()
