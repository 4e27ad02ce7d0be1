"""Starting and stopping the background jobs of a running bot (sweeps and the outbox sender)."""

from __future__ import annotations

from typing import Any

from aiogram import Bot

from bot.services import Services


async def start(services: Services, bot: Bot) -> Any:
    return None


async def stop(handle: Any) -> None:
    return None
