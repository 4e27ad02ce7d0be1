"""An aiogram middleware that tells the emulator when the bot is done with an update."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiogram import BaseMiddleware, Dispatcher
from aiogram.types import TelegramObject, Update

if TYPE_CHECKING:
    from bot.emulator.server import BotApiEmulator


class ProcessedTracker(BaseMiddleware):
    """Outer update middleware calling `emulator.mark_processed` once an update is handled.

    Prefer `ProcessedTracker(emulator).install(dp)`: it makes the tracker the outermost
    middleware, so an update counts as processed only after the dispatcher's error
    handlers ran too, and only exceptions they left unhandled are reported. Plain
    `dp.update.outer_middleware(tracker)` also works, but then it sits inside aiogram's
    ErrorsMiddleware and sees errors that an error handler goes on to handle.
    """

    def __init__(self, emulator: BotApiEmulator) -> None:
        self.emulator = emulator
        emulator.attach_tracker()

    def install(self, dispatcher: Dispatcher) -> ProcessedTracker:
        """Register as the outermost update middleware (moving it there if registered)."""
        manager = dispatcher.update.outer_middleware
        existing = list(manager)
        for middleware in existing:
            manager.unregister(middleware)
        manager.register(self)
        for middleware in existing:
            if middleware is not self:
                manager.register(middleware)
        return self

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        update_id = event.update_id if isinstance(event, Update) else None
        error: BaseException | None = None
        try:
            return await handler(event, data)
        except Exception as exc:
            error = exc
            raise
        finally:
            if update_id is not None:
                self.emulator.mark_processed(update_id, error)
