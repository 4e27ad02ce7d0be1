"""The Mini App is served by the bot's own server when MINIAPP_URL is set: beside the webhook,
or on the ops server when polling; init data is checked against BOT_TOKEN."""

from __future__ import annotations

import asyncio

import aiohttp
from pydantic import SecretStr

from bot.miniapp.server import mount_when_configured
from bot.ops import start_ops_server
from bot.webhook import run_webhook
from tests.bot.test_webhook import free_port
from tests.factories import make_trainee
from tests.harness import BotHarness
from tests.miniapp_support import sign_init_data

TOKEN = "424242:the-bots-own-token"


async def check(url: str) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{url}/app/profile.html") as response:
            assert response.status == 200 and "profile.js" in await response.text()
        async with http.get(f"{url}/app/api/me") as response:
            assert response.status == 401
        headers = {"Authorization": f"tma {sign_init_data(TOKEN, 6601)}"}
        async with http.get(f"{url}/app/api/me", headers=headers) as response:
            assert response.status == 200 and (await response.json())["role"] == "trainee"
        headers = {"Authorization": f"tma {sign_init_data('1:emulator', 6601)}"}
        async with http.get(f"{url}/app/api/me", headers=headers) as response:
            assert response.status == 401


async def test_the_ops_server_serves_the_mini_app_only_with_miniapp_url(app: BotHarness) -> None:
    async with app.ctx() as ctx:
        await make_trainee(ctx, tg_user_id=6601)
    settings = app.services.settings
    settings.bot_token = SecretStr(TOKEN)
    try:
        runner = await start_ops_server(
            "127.0.0.1", 0, app.services, extra_routes=mount_when_configured(app.services)
        )
        host, port = runner.addresses[0][:2]
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://{host}:{port}/app/") as response,
        ):
            assert response.status == 404  # no MINIAPP_URL: not served
        await runner.cleanup()

        settings.miniapp_url = "https://bot.example.org/app/"
        runner = await start_ops_server(
            "127.0.0.1", 0, app.services, extra_routes=mount_when_configured(app.services)
        )
        host, port = runner.addresses[0][:2]
        await check(f"http://{host}:{port}")
        await runner.cleanup()
    finally:
        settings.bot_token, settings.miniapp_url = None, None


async def test_the_webhook_server_serves_the_mini_app_beside_the_webhook(app: BotHarness) -> None:
    async with app.ctx() as ctx:
        await make_trainee(ctx, tg_user_id=6601)
    await app.stop()
    settings = app.services.settings
    port = free_port()
    settings.webhook_host, settings.webhook_port = "127.0.0.1", port
    settings.webhook_url = f"http://127.0.0.1:{port}{settings.webhook_path}"
    settings.miniapp_url, settings.bot_token = "https://bot.example.org/app/", SecretStr(TOKEN)
    from bot.app import build_bot, build_dispatcher

    bot = build_bot(app.emulator.token, app.emulator.url)
    ready: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(
        run_webhook(
            build_dispatcher(app.services),
            bot,
            app.services,
            install_signals=False,
            extra_routes=mount_when_configured(app.services),
            started=lambda intake, url: ready.set_result(intake),
        )
    )
    intake = await asyncio.wait_for(ready, 10)
    try:
        await check(f"http://127.0.0.1:{port}")
    finally:
        intake.stop()
        await task
        await app.emulator.methods.delete_webhook({})
        await bot.session.close()
        settings.webhook_url = settings.miniapp_url = settings.bot_token = None
        await app.start()
