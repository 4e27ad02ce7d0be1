"""Webhook intake: the secret is checked, an update is committed before the 2xx, a redelivery
has no second effect, and a stopping instance answers 503."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
from pydantic import SecretStr
from sqlalchemy import func, select

from bench.probe import build_probe_router
from bot.app import build_bot, build_dispatcher
from bot.emulator.tracking import ProcessedTracker
from bot.webhook import SECRET_HEADER, WebhookIntake, run_webhook
from handlers import build_routers
from storage.models import AuditLog
from tests.harness import BotHarness

SECRET = "webhook-secret-of-the-test"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def webhook_bot(app: BotHarness) -> AsyncIterator[tuple[WebhookIntake, str]]:
    await app.stop()
    port = free_port()
    settings = app.services.settings
    settings.webhook_host, settings.webhook_port = "127.0.0.1", port
    settings.webhook_url = f"http://127.0.0.1:{port}{settings.webhook_path}"
    settings.webhook_secret = SecretStr(SECRET)
    bot = build_bot(app.emulator.token, app.emulator.url)
    dp = build_dispatcher(app.services, routers=[build_probe_router(), *build_routers()])
    ProcessedTracker(app.emulator).install(dp)
    ready: asyncio.Future[tuple[WebhookIntake, str]] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(
        run_webhook(
            dp,
            bot,
            app.services,
            install_signals=False,
            started=lambda intake, url: ready.set_result((intake, url)),
        )
    )
    intake, _ = await asyncio.wait_for(ready, 10)
    try:
        yield intake, settings.webhook_url
    finally:
        intake.stop()
        await task
        await app.emulator.methods.delete_webhook({})
        await bot.session.close()
        settings.webhook_url = None
        await app.start()


async def notes(app: BotHarness) -> int:
    async with app.ctx() as ctx:
        return int(
            await ctx.session.scalar(
                select(func.count()).select_from(AuditLog).where(AuditLog.action == "note")
            )
            or 0
        )


def note_update(update_id: int, user: Any, n: int) -> dict[str, Any]:
    text = f"/note {n}"
    return {
        "update_id": update_id,
        "message": {
            "message_id": 10_000 + update_id,
            "date": 1_780_000_000,
            "chat": {"id": user.user_id, "type": "private", "first_name": "T"},
            "from": user.api,
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
        },
    }


async def test_updates_arrive_by_webhook_and_are_answered(app: BotHarness) -> None:
    user = app.user(821, language_code="en")
    async with webhook_bot(app):
        await user.send("/note 1")
        await user.send("/note 2")
    assert [m.text for m in user.bot_messages()] == ["noted 1", "noted 2"]
    assert await notes(app) == 2
    assert all(d.status == 200 for d in app.emulator.state.webhook_log)


async def test_a_wrong_or_missing_secret_gets_401_and_changes_nothing(app: BotHarness) -> None:
    user = app.user(822, language_code="en")
    async with webhook_bot(app) as (_, url), aiohttp.ClientSession() as http:
        for headers in ({}, {SECRET_HEADER: "not-the-secret"}):
            async with http.post(url, json=note_update(900_001, user, 3), headers=headers) as r:
                assert r.status == 401
    assert await notes(app) == 0
    assert user.bot_messages() == []


async def test_the_same_update_delivered_twice_has_one_effect(app: BotHarness) -> None:
    user = app.user(823, language_code="en")
    app.emulator.state.open_chat(user.api)
    async with webhook_bot(app) as (_, url), aiohttp.ClientSession() as http:
        headers = {SECRET_HEADER: SECRET}
        payload = note_update(900_002, user, 4)
        statuses = []
        for _ in range(2):
            async with http.post(url, json=payload, headers=headers) as response:
                statuses.append(response.status)
        # Two deliveries at once (two instances, or a retry racing the first).
        payload = note_update(900_003, user, 5)

        async def post() -> int:
            async with http.post(url, json=payload, headers=headers) as response:
                return response.status

        statuses += await asyncio.gather(post(), post())
    assert statuses == [200, 200, 200, 200]
    assert await notes(app) == 2
    assert sorted(m.text for m in user.bot_messages()) == ["noted 4", "noted 5"]


async def test_a_stopping_instance_answers_503(app: BotHarness) -> None:
    user = app.user(824, language_code="en")
    async with webhook_bot(app) as (intake, url), aiohttp.ClientSession() as http:
        intake.accepting = False  # what SIGTERM does first
        headers = {SECRET_HEADER: SECRET}
        async with http.post(url, json=note_update(900_004, user, 6), headers=headers) as r:
            assert r.status == 503
        intake.accepting = True
    assert await notes(app) == 0
