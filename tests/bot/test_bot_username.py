"""The running bot learns its username from Telegram's getMe at start and stores it, so that the
command line can print links to this very bot."""

from __future__ import annotations

import asyncio
from pathlib import Path

from pydantic import SecretStr

from bot.app import build_bot, build_dispatcher
from bot.config import Settings
from bot.emulator import BotApiEmulator
from bot.fsm_storage import SqlStorage
from bot.runner import serve
from bot.services import Services
from storage.crypto import FieldCipher
from storage.db import Database
from storage.models import BotInfo
from workflow.clock import FrozenClock


async def stored(db: Database) -> dict[str, str]:
    async with db.transaction() as session:
        return {
            key: row.value
            for key in ("username", "bot_id")
            if (row := await session.get(BotInfo, key))
        }


async def test_a_bot_started_with_a_token_stores_the_username_getme_gives(
    db: Database, cipher: FieldCipher, clock: FrozenClock, data_dir: Path
) -> None:
    async with BotApiEmulator(token="515151:real-token", bot_username="gd_residency_bot") as tg:
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            data_dir=data_dir,
            database_url=db.url,
            bot_token=SecretStr(tg.token),
            telegram_api_url=tg.url,
        )
        assert settings.bot_username != "gd_residency_bot" and not settings.sandbox
        services = Services(
            settings=settings,
            db=db,
            cipher=cipher,
            clock=clock,
            fsm_storage=SqlStorage(db, clock=clock),
        )
        bot = build_bot(tg.token, tg.url)
        running = asyncio.create_task(serve(services, bot, build_dispatcher(services)))
        try:
            for _ in range(100):
                if await stored(db) or running.done():
                    break
                await asyncio.sleep(0.05)
        finally:
            running.cancel()
            await asyncio.gather(running, return_exceptions=True)
        assert await stored(db) == {"username": "gd_residency_bot", "bot_id": "515151"}
        assert any(call.method == "getMe" for call in tg.calls)
