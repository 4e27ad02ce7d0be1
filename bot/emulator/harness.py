"""Running an aiogram Dispatcher against the emulator, for tests and the sandbox."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any, TypeGuard

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from bot.emulator.server import BotApiEmulator
from bot.emulator.tracking import ProcessedTracker

POLLING_START_TIMEOUT = 10.0
DRAIN_TIMEOUT = 5.0


def make_bot(emulator: BotApiEmulator, **bot_kwargs: Any) -> Bot:
    """A real aiogram Bot whose HTTP session talks to the emulator."""
    session = AiohttpSession(api=TelegramAPIServer.from_base(emulator.url))
    return Bot(emulator.token, session=session, **bot_kwargs)


@contextlib.asynccontextmanager
async def run_polling(
    dispatcher: Dispatcher,
    emulator: BotApiEmulator,
    bot: Bot | None = None,
    **polling_kwargs: Any,
) -> AsyncIterator[Bot]:
    """Poll the emulator in a background task for the duration of the block.

    Makes sure the emulator's ProcessedTracker is the outermost update middleware
    (registering one, or moving one the dispatcher already has), returns once polling
    has started, and on exit waits briefly for updates still in flight before stopping
    polling and closing the session.
    """
    bot = bot or make_bot(emulator)
    tracker = next((m for m in dispatcher.update.outer_middleware if _tracks(m, emulator)), None)
    (tracker or ProcessedTracker(emulator)).install(dispatcher)
    polls_before = len(emulator.calls_to("getUpdates"))
    task = asyncio.create_task(
        dispatcher.start_polling(bot, handle_signals=False, **polling_kwargs)
    )
    try:
        await _wait_polling_started(emulator, task, polls_before)
        yield bot
    finally:
        await emulator.wait_in_flight(DRAIN_TIMEOUT)
        if not task.done():
            await dispatcher.stop_polling()
        await task


def _tracks(middleware: object, emulator: BotApiEmulator) -> TypeGuard[ProcessedTracker]:
    return isinstance(middleware, ProcessedTracker) and middleware.emulator is emulator


async def _wait_polling_started(
    emulator: BotApiEmulator, task: asyncio.Task[Any], polls_before: int
) -> None:
    deadline = time.monotonic() + POLLING_START_TIMEOUT
    while len(emulator.calls_to("getUpdates")) <= polls_before:
        if task.done():
            await task  # polling ended early: surface its exception
            raise RuntimeError("polling stopped before it fetched any update")
        if time.monotonic() > deadline:
            raise TimeoutError("the dispatcher did not start polling the emulator")
        await asyncio.sleep(0.01)
