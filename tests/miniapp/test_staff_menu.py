"""The staff chat's work menu opens the workbench with a `web_app` button when the Mini App
is offered (MINIAPP_URL, or the sandbox), and has none without it: the chat stays complete on
its own."""

from __future__ import annotations

from pydantic import SecretStr

from tests.harness import BotHarness
from tests.miniapp.staff_world import BASE_A, CITY_GZ, staff_world


async def test_the_menu_opens_the_workbench_only_when_the_mini_app_is_offered(
    app: BotHarness,
) -> None:
    await staff_world(app)
    settings = app.services.settings
    # As with a real token: no MINIAPP_URL, no Mini App (the sandbox offers its own).
    settings.bot_token = SecretStr("123456:real-token")
    settings.miniapp_url = None
    base = app.user(BASE_A)
    await base.command("menu")
    menu = base.last_bot_message()
    assert menu.button("📱 在工作台中打开") is None
    assert all("web_app" not in b for row in menu.inline_keyboard for b in row)

    settings.miniapp_url = "https://bot.example.org/app/"
    await base.command("menu")
    button = base.last_bot_message().button("📱 在工作台中打开")
    assert button is not None
    assert button["web_app"] == {"url": "https://bot.example.org/app/staff.html"}
    city = app.user(CITY_GZ)
    await city.command("language")
    await city.press("English")
    await city.command("menu")
    button = city.last_bot_message().button("📱 Open in the workbench")
    assert button is not None and button["web_app"]["url"].endswith("/app/staff.html")
