"""The sandbox opens the Mini App from its chat, signed for the persona with the emulator's
token: the trainee's profile button and the chat's menu button open the forms in a phone-sized
frame, and what is saved there is what the chat then shows; the base persona's work menu opens
the staff workbench."""

from __future__ import annotations

import contextlib
import json
import shutil
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from tests.sandbox.conftest import SandboxProcess, sandbox

__all__ = ["sandbox"]
TIMEOUT = 30_000


@contextlib.contextmanager
def web_chat(sandbox: SandboxProcess, persona: str, command: str) -> Iterator[Any]:
    """The web chat as `persona`, `command` sent; after the block, no page error and no problem
    the sandbox noticed."""
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
        page.goto(f"{sandbox.url}/?persona={persona}")
        page.wait_for_selector("body[data-ready='1']", timeout=TIMEOUT)
        page.fill("#composer-input", command)
        page.press("#composer-input", "Enter")
        yield page
        browser.close()
    with urllib.request.urlopen(sandbox.url + "/api/meta") as response:
        assert not json.load(response)["problems"]
    assert not errors, errors


def test_the_profile_buttons_open_the_mini_app_signed_for_the_persona(
    sandbox: SandboxProcess,
) -> None:
    with web_chat(sandbox, "profile", "/profile") as page:
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


def test_the_work_menu_opens_the_workbench_signed_for_the_persona(
    sandbox: SandboxProcess,
) -> None:
    with web_chat(sandbox, "base", "/menu") as page:
        page.locator("#messages .kb-button.web-app", has_text="在工作台中打开").last.click(
            timeout=TIMEOUT
        )
        frame = page.frame_locator("#miniapp-frame")
        frame.locator("body[data-ready='1']").wait_for(timeout=TIMEOUT)
        assert frame.locator("#scope").inner_text() == "广州市红十字会医院"
        tabs = frame.locator("#tabs button").all_inner_texts()
        assert any("学员录取管理" in t for t in tabs) and any("数据统计" in t for t in tabs)
        assert frame.locator("#page-line").inner_text().startswith("共 ")
        frame.locator("#tabs button[data-view='stats']").click()
        frame.locator("#stats-table tbody tr").first.wait_for(timeout=TIMEOUT)
