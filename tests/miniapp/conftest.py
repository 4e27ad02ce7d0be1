"""The Mini App served as the bot serves it (its routes on a real aiohttp server beside the
bot running against the Bot API emulator), init data signed with the emulator's token."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.miniapp.server import add_miniapp_routes
from tests.harness import BotHarness
from tests.miniapp_support import fragment, sign_init_data
from tests.trainee.conftest import fast_hashing, trainee, world

__all__ = ["fast_hashing", "trainee", "world"]  # the trainee journey's fixtures, shared


@dataclass
class MiniApp:
    url: str  # http://127.0.0.1:PORT
    token: str
    http: aiohttp.ClientSession

    def init_data(self, user_id: int, **kw: Any) -> str:
        return sign_init_data(self.token, user_id, **kw)

    def page(self, page: str, user_id: int, **kw: Any) -> str:
        """The page's address as a Telegram client opens it (init data in the fragment)."""
        return f"{self.url}/app/{page}{fragment(self.init_data(user_id, **kw))}"

    async def call(
        self, path: str, body: Any = None, *, init_data: str | None = None, method: str = ""
    ) -> tuple[int, Any]:
        headers = {"Authorization": f"tma {init_data}"} if init_data is not None else {}
        verb = method or ("POST" if body is not None else "GET")
        async with self.http.request(
            verb, f"{self.url}/app/api/{path}", json=body, headers=headers
        ) as response:
            return response.status, await response.json(content_type=None)

    async def as_user(self, user_id: int, path: str, body: Any = None, **kw: Any) -> Any:
        return await self.call(path, body, init_data=self.init_data(user_id, **kw))


@pytest.fixture
async def miniapp(app: BotHarness) -> AsyncIterator[MiniApp]:
    web_app = web.Application()
    add_miniapp_routes(web_app, app.services, bot_token=app.emulator.token)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    async with aiohttp.ClientSession() as http:
        yield MiniApp(url=f"http://{host}:{port}", token=app.emulator.token, http=http)
    await runner.cleanup()


PHONE = {"width": 390, "height": 844}


@pytest.fixture
async def phone():  # type: ignore[no-untyped-def]
    """A phone-sized page in headless Chromium (Debian's), offline: telegram.org is not
    reachable, so the pages run on the init data of their URL fragment."""
    import shutil

    from playwright.async_api import async_playwright

    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("chromium is not installed")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        context = await browser.new_context(viewport=PHONE, device_scale_factor=2, locale="zh-CN")
        await context.route("https://telegram.org/**", lambda route: route.abort())
        page = await context.new_page()
        page.set_default_timeout(10_000)
        yield page
        await context.close()
        await browser.close()
