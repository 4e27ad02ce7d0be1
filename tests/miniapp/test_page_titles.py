"""Every page of the Mini App is titled in its user's language: Chinese by default, English for
a Telegram user whose client speaks English; the titles come from the locale files."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.factories import make_trainee
from tests.harness import BotHarness
from tests.miniapp.conftest import MiniApp
from tests.miniapp.staff_world import BASE_A, staff_world

TRAINEE = 6401
TRAINEE_PAGES = {
    "en": {
        "index.html": "Residency admission",
        "profile.html": "Your profile",
        "bases.html": "Choose a training base",
    },
    "zh-hans": {
        "index.html": "住培招录",
        "profile.html": "学员信息维护",
        "bases.html": "选择培训基地",
    },
}


@pytest.mark.parametrize("language", sorted(TRAINEE_PAGES))
async def test_the_trainees_pages_are_titled_in_their_language(
    app: BotHarness, miniapp: MiniApp, phone, language: str
) -> None:  # type: ignore[no-untyped-def]
    async with app.ctx() as ctx:
        await make_trainee(ctx, tg_user_id=TRAINEE)
    for page, title in TRAINEE_PAGES[language].items():
        await phone.goto(miniapp.page(page, TRAINEE, language_code=language))
        await expect(phone).to_have_title(title)
        await expect(phone.locator("h1")).to_have_text(title)
        expected_lang = "en" if language == "en" else "zh-CN"
        await expect(phone.locator("html")).to_have_attribute("lang", expected_lang)


async def test_the_workbench_is_titled_in_english_for_an_english_user(
    app: BotHarness, miniapp: MiniApp, phone
) -> None:  # type: ignore[no-untyped-def]
    await staff_world(app)
    await phone.goto(miniapp.page("staff.html", BASE_A, language_code="en"))
    await expect(phone.locator("body[data-ready='1']")).to_have_count(1)
    await expect(phone).to_have_title("Workbench")
    await expect(phone.locator("#title")).to_have_text("Workbench")
