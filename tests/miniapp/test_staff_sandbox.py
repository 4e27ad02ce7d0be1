"""The sandbox opens the staff workbench from the base persona's work menu: the web-app button
opens the page in the web chat's frame, signed for the persona with the emulator's token."""

from __future__ import annotations

import json
import shutil
import urllib.request

import pytest

from tests.sandbox.conftest import SandboxProcess, sandbox

__all__ = ["sandbox"]
TIMEOUT = 30_000


def test_the_work_menu_opens_the_workbench_signed_for_the_persona(
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
        page.goto(sandbox.url + "/?persona=base")
        page.wait_for_selector("body[data-ready='1']", timeout=TIMEOUT)
        page.fill("#composer-input", "/menu")
        page.press("#composer-input", "Enter")
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
        browser.close()
    with urllib.request.urlopen(sandbox.url + "/api/meta") as response:
        assert not json.load(response)["problems"]
    assert not errors, errors
