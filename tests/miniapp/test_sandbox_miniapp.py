"""The sandbox opens the Mini App from its chat: the profile screen's web-app button and the
chat's menu button open the page in a phone-sized frame, signed for the persona with the
emulator's token, and what is saved there is what the chat then shows."""

from __future__ import annotations

import json
import shutil
import urllib.request

import pytest

from tests.sandbox.conftest import SandboxProcess, sandbox

__all__ = ["sandbox"]
TIMEOUT = 30_000


def test_the_profile_buttons_open_the_mini_app_signed_for_the_persona(
    sandbox: SandboxProcess,
) -> None:
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("chromium is not installed")
    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        context = browser.new_context(viewport={"width": 412, "height": 880}, locale="zh-CN")
        context.route("https://telegram.org/**", lambda route: route.abort())
        page = context.new_page()
        page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
        page.goto(sandbox.url + "/?persona=profile")
        page.wait_for_selector("body[data-ready='1']", timeout=TIMEOUT)
        page.fill("#composer-input", "/profile")
        page.press("#composer-input", "Enter")
        page.locator("#messages .kb-button.web-app", has_text="在小程序中填写").last.click(
            timeout=TIMEOUT
        )
        frame = page.frame_locator("#miniapp-frame")
        identity = frame.locator("#identity")
        identity.wait_for(timeout=TIMEOUT)
        assert "李华" in identity.inner_text()
        frame.locator("#basic-political_status").select_option("群众")
        frame.locator("#basic-save").click()
        frame.locator("#toast.ok").wait_for(timeout=TIMEOUT)
        page.click("#miniapp-close")

        page.fill("#composer-input", "/profile")
        page.press("#composer-input", "Enter")
        page.locator("#messages .msg.bot", has_text="学员信息维护").last.wait_for(timeout=TIMEOUT)
        page.locator("#messages .kb-button", has_text="基本信息").last.click()
        page.locator("#messages .msg.bot", has_text="政治面貌：群众").last.wait_for(timeout=TIMEOUT)

        assert page.is_visible("#menu-app")  # the chat's menu button opens the start page
        page.click("#menu-app")
        frame.locator("nav.pages a", has_text="选择培训基地").wait_for(timeout=TIMEOUT)
        browser.close()
    with urllib.request.urlopen(sandbox.url + "/api/meta") as response:
        assert not json.load(response)["problems"]
    assert not errors, errors
