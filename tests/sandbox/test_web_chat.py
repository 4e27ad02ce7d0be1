"""The sandbox in a browser: `zhupei run` with no token serves the web chat, and the whole
admission flow is played there in headless Chromium, one persona after another — a new trainee
registers, fills in the profile and applies; the base pre-admits, admits and sends; the demo
clock moves past the 12-hour lock period; the trainee accepts; the city confirms; the trainee's
status card shows it. A screenshot of every step is saved; any page error, console error or
Bot API violation fails the test."""

from __future__ import annotations

import json
import re
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.sandbox.conftest import (
    START_LIMIT,
    SandboxProcess,
    require_chromium,
    start_sandbox,
    stop_sandbox,
)

PHONE = {"width": 412, "height": 880}
STEP_TIMEOUT = 30_000  # ms: a loaded 2-core machine
# A person's pace: on a fast machine the page answers in a few milliseconds, and a player
# pressing at machine speed would be slowed down by the bot's flood control (5 updates/s).
HUMAN_INTERVAL = 0.3  # seconds between two actions


def test_make_run_serves_the_page_within_a_minute(sandbox: SandboxProcess) -> None:
    print(f"\nsandbox page served {sandbox.started_in:.1f} s after `zhupei run`")
    assert sandbox.started_in < START_LIMIT, sandbox.text
    assert "demo data loaded" in sandbox.text
    assert "Traceback" not in sandbox.text, sandbox.text
    assert (sandbox.data_dir / "sandbox.log").exists()
    with urllib.request.urlopen(sandbox.url + "/api/meta") as response:
        meta = json.load(response)
    assert {p["key"] for p in meta["personas"]} >= {"new", "admitted", "base", "city", "province"}
    assert meta["clock"]["timezone"] == "Asia/Shanghai"


class Player:
    """One browser tab on the sandbox page, acting as the chosen persona."""

    def __init__(self, page, artifacts: Path) -> None:  # type: ignore[no-untyped-def]
        self.page = page
        self.artifacts = artifacts
        self.last_action = 0.0

    def pace(self) -> None:
        wait = self.last_action + HUMAN_INTERVAL - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        self.last_action = time.monotonic()

    def idle(self) -> None:
        self.page.wait_for_function(
            "!document.body.classList.contains('busy')", timeout=STEP_TIMEOUT
        )

    def be(self, persona: str) -> None:
        self.page.select_option("#persona", persona)
        self.page.wait_for_selector(f"#messages[data-persona='{persona}']", timeout=STEP_TIMEOUT)

    def type(self, text: str) -> None:
        self.pace()
        self.page.fill("#composer-input", text)
        self.page.press("#composer-input", "Enter")
        self.idle()

    def press(self, label: str, *, exact: bool = False) -> None:
        """The newest inline button with this label, or a part of it (as a person would press
        the one at the bottom of the chat)."""
        text: str | re.Pattern[str] = re.compile(f"^{re.escape(label)}$") if exact else label
        self.pace()
        self.page.locator("#messages .kb-button", has_text=text).last.click()
        self.idle()

    def reply(self, label: str) -> None:
        self.pace()
        self.page.locator("#reply-keyboard .kb-button", has_text=label).click()
        self.idle()

    def command(self, name: str) -> None:
        """Pick a command from the chat's menu button."""
        self.pace()
        self.page.click("#menu-button")
        self.page.locator("#command-menu .command", has_text=f"/{name}").first.click()
        self.idle()

    def sees(self, text: str) -> None:
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        last = self.page.locator("#messages .msg.bot", has_text=text).last
        try:
            last.wait_for(timeout=STEP_TIMEOUT)
        except PlaywrightTimeout:
            shown = self.page.locator("#messages .msg").all_inner_texts()[-4:]
            path = self.shot("not-seen")
            raise AssertionError(
                f"{text!r} not shown; the chat ends with {shown} (screenshot {path})"
            ) from None

    def shot(self, name: str) -> Path:
        step = len(list(self.artifacts.glob("*.png"))) + 1
        path = self.artifacts / f"{step:02d}-{name}.png"
        self.page.screenshot(path=str(path))
        return path


@pytest.fixture
def player(sandbox: SandboxProcess, artifacts: Path) -> Iterator[Player]:
    from playwright.sync_api import sync_playwright

    chromium = require_chromium()
    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        context = browser.new_context(viewport=PHONE, device_scale_factor=1, locale="zh-CN")
        page = context.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
        page.goto(sandbox.url)
        page.wait_for_selector("body[data-ready='1']", timeout=STEP_TIMEOUT)
        yield Player(page, artifacts)
        problems = page.locator("#problems .problem").all_inner_texts()
        browser.close()
    with urllib.request.urlopen(sandbox.url + "/api/meta") as response:
        violations = json.load(response)["problems"]
    assert not violations, violations
    assert not problems, problems
    assert not errors, errors


def register_and_apply(me: Player) -> None:
    me.be("new")
    me.press("学员注册")
    me.press("住院医师规范化培训")
    me.type("王小明")
    me.press("居民身份证")
    me.type("440106200001010051")
    me.sees("验证通过")
    me.type("wangxm2026")
    me.reply("分享我的手机号")
    me.sees("已验证")
    me.type("Passw0rd2026")
    me.type("Passw0rd2026")
    me.sees("注册完成")
    me.shot("trainee-registered")

    me.press("完善个人信息")
    answers = ["!汉族", "!群众", "demo@example.com", "广州市越秀区中山二路 58 号", "王芳"]
    answers += ["13900000000"]
    for answer in answers:
        me.press("去完善")
        if answer.startswith("!"):
            me.press(answer[1:])
        else:
            me.type(answer)
        me.press("返回")
    me.press("去完善")  # the education record, field by field
    for answer in ("中山大学", "临床医学", "!本科", "2020-09-01", "2025-06-30"):
        me.press(answer[1:]) if answer.startswith("!") else me.type(answer)
    me.press("第一学历")
    me.press("最高学历")
    me.press("返回")
    me.press("返回")
    me.press("去完善")
    me.press("无工作单位")
    me.press("返回")
    me.sees("四个模块均已完整")
    me.shot("trainee-profile-complete")

    me.command("apply")
    me.press("演示批次")
    me.press("面向社会招收住院医师")
    me.press("信息无误")
    me.press("应届毕业生：是")
    me.press("未取得医师资格证书")
    me.press("下一步")
    me.press("内科", exact=True)
    for _page in range(5):
        if me.page.locator("#messages .kb-button", has_text="广州市红十字会医院").count():
            break
        me.press("下一页")
    me.press("广州市红十字会医院")  # the national base
    me.press("广州市红十字会医院")  # its local base
    me.press("是，接受调剂")
    me.press("提交报名")
    me.press("确定提交")
    me.sees("报名已提交")
    me.shot("trainee-applied")


def base_admits_and_sends(me: Player) -> None:
    me.be("base")
    me.command("menu")
    me.press("学员志愿预审核")
    me.press("王小明")
    me.press("预录取")
    me.sees("已预录取")
    me.shot("base-pre-admitted")
    me.command("admission")
    me.press("王小明")
    me.press("基地录取")
    me.press("发送录取结果")
    me.sees("录取结果已发送")
    me.shot("base-sent")


def test_the_whole_flow_in_the_browser(player: Player) -> None:
    me = player
    register_and_apply(me)
    base_admits_and_sends(me)

    me.be("new")
    me.sees("培训基地已向您发送录取结果")
    before = me.page.inner_text("#clock")
    me.page.click("[data-hours='13']")
    me.idle()
    assert me.page.inner_text("#clock") != before
    me.sees("录取结果现在可以确认了")  # the reminder the sweep queued at the lock's end
    me.shot("clock-advanced-13h")
    me.press("接受录取结果")
    me.sees("您已接受录取结果")
    me.shot("trainee-accepted")

    me.be("city")
    me.command("confirm")
    me.press("王小明")
    me.press("录取结果确认")
    me.sees("录取结果已确认")
    me.shot("city-confirmed")

    me.be("new")
    me.command("status")
    me.sees("报名状态：录取结果已确认")
    me.shot("trainee-status-card")


def test_personas_are_ready_at_their_stage(player: Player) -> None:
    me = player
    me.be("admitted")
    me.sees("培训基地已向您发送录取结果")
    me.be("submitted")
    me.command("status")
    me.sees("报名状态：已提交")
    me.be("province")
    me.command("menu")
    me.sees("工作菜单")
    me.shot("province-menu")


def _api(url: str, body: dict | None = None) -> dict:  # type: ignore[type-arg]
    request = urllib.request.Request(
        url,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)  # type: ignore[no-any-return]


def test_after_a_restart_the_chats_are_there_and_old_buttons_work(
    sandbox: SandboxProcess,
) -> None:
    """Runs last in the module: it restarts the sandbox on the same data directory."""
    before = _api(f"{sandbox.url}/api/chat/admitted")
    clock_before = _api(f"{sandbox.url}/api/meta")["clock"]["offset_hours"]
    assert stop_sandbox(sandbox) == 0, sandbox.text
    again = start_sandbox(sandbox.data_dir.parent)
    try:
        after = _api(f"{again.url}/api/chat/admitted")
        assert after["messages"] == before["messages"]
        assert after["commands"] == before["commands"]
        assert _api(f"{again.url}/api/meta")["clock"]["offset_hours"] == clock_before
        # The first message with a button, sent before the restart, still answers.
        old = next(m for m in after["messages"] if m["from_bot"] and m["buttons"])
        outcome = _api(
            f"{again.url}/api/chat/admitted/press", {"message_id": old["id"], "row": 0, "column": 0}
        )
        assert outcome["error"] is None, outcome
        newest = _api(f"{again.url}/api/chat/admitted")["messages"]
        assert len(newest) > len(after["messages"]) or newest != after["messages"]
        assert "demo data loaded" not in again.text  # no second seed
        assert not _api(f"{again.url}/api/meta")["problems"]
    finally:
        stop_sandbox(again)
