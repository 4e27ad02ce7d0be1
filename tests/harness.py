"""The bot as users meet it: the real Dispatcher and Bot, polling the Bot API emulator over
HTTP through the durable polling of production, on the test's database, with a clock the test
controls."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiogram import Bot, Dispatcher, Router

from bot.app import build_bot, build_dispatcher
from bot.config import Settings
from bot.emulator import BotApiEmulator, ScriptedUser
from bot.emulator.tracking import ProcessedTracker
from bot.fsm_storage import SqlStorage
from bot.polling import DurablePolling
from bot.services import Services
from storage.crypto import FieldCipher
from storage.db import Database
from workflow.clock import FrozenClock
from workflow.context import Ctx

START_TIMEOUT = 10.0
MACHINE_SPEED: dict[str, Any] = {
    "flood_burst": 10_000,
    "flood_rate_per_second": 10_000.0,
    "chat_send_burst": 10_000,
    "chat_send_per_second": 10_000.0,
    "group_send_burst": 10_000,
    "group_send_per_minute": 600_000.0,
}


@contextlib.asynccontextmanager
async def polling(
    services: Services, emulator: BotApiEmulator, dp: Dispatcher, bot: Bot, **options: Any
) -> AsyncIterator[DurablePolling]:
    """Poll the emulator in the background for the duration of the block; on exit wait for the
    updates in flight, then stop."""
    ProcessedTracker(emulator).install(dp)
    options.setdefault("concurrency", services.settings.max_concurrent_updates)
    runner = DurablePolling(
        dp, bot, services.db, services.clock, services.cipher, poll_timeout=1, **options
    )
    task = asyncio.create_task(runner.run())
    started = asyncio.create_task(runner.started.wait())
    await asyncio.wait({task, started}, timeout=START_TIMEOUT, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        started.cancel()
        await task  # polling ended early: surface its exception
    assert runner.started.is_set(), "polling did not start"
    try:
        yield runner
    finally:
        await emulator.wait_in_flight(5.0)
        runner.stop()
        await task


@dataclass
class BotHarness:
    emulator: BotApiEmulator
    services: Services
    clock: FrozenClock
    bot: Bot | None = None
    dp: Dispatcher | None = None
    _polling: contextlib.AsyncExitStack = field(default_factory=contextlib.AsyncExitStack)

    @property
    def db(self) -> Database:
        return self.services.db

    def user(self, user_id: int, **kwargs: Any) -> ScriptedUser:
        return self.emulator.user(user_id, **kwargs)

    @contextlib.asynccontextmanager
    async def ctx(self) -> AsyncIterator[Ctx]:
        """A workflow context on the bot's database, in one committed transaction."""
        async with self.db.transaction() as session:
            yield self.services.ctx(session)

    async def deliver(self) -> int:
        """Send the queued notices that are due now (what the outbox sender does in the
        background of a running bot); returns how many were sent."""
        from scheduler.outbox import drain_once

        assert self.bot is not None
        return await drain_once(self.services, self.bot)

    async def start(self, routers: Sequence[Router] | None = None) -> None:
        """Start polling; `routers` replaces the project's routers (a probe router, say)."""
        self.bot = build_bot(self.emulator.token, self.emulator.url, self.services.settings)
        self.dp = build_dispatcher(self.services, routers=routers)
        await self._polling.enter_async_context(
            polling(self.services, self.emulator, self.dp, self.bot)
        )

    async def stop(self) -> None:
        await self._polling.aclose()
        self._polling = contextlib.AsyncExitStack()
        if self.bot is not None:
            await self.bot.session.close()

    async def restart(self, routers: Sequence[Router] | None = None) -> None:
        """A new Bot and Dispatcher (as after a process restart) on the same database."""
        await self.stop()
        await self.start(routers)


@contextlib.asynccontextmanager
async def running_bot(
    db: Database, cipher: FieldCipher, clock: FrozenClock, data_dir: Path
) -> AsyncIterator[BotHarness]:
    # Scripted users act at machine speed, far faster than people and than Telegram lets a bot
    # answer one chat: the limits are wide here; tests/hardening/ sets them back.
    settings = Settings(
        _env_file=None,
        data_dir=data_dir,
        database_url=db.url,
        bot_token=None,
        **MACHINE_SPEED,
    )
    services = Services(
        settings=settings,
        db=db,
        cipher=cipher,
        clock=clock,
        fsm_storage=SqlStorage(db, clock=clock),
    )
    async with BotApiEmulator() as emulator:
        harness = BotHarness(emulator=emulator, services=services, clock=clock)
        await harness.start()
        try:
            yield harness
        finally:
            await harness.stop()
        emulator.assert_no_violations()
        assert not emulator.unanswered_callbacks, emulator.unanswered_callbacks
