"""The sandbox's parts on their own: the page's HTML from text and entities, the terminal
chat's loose button labels, the demo clock and the chat archive."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.emulator import BotApiEmulator, parse_html
from bot.emulator.persistence import ChatArchive
from bot.sandbox import match_label
from bot.webchat.clock import DemoClock
from bot.webchat.render import entities_to_html


def test_entities_become_escaped_html() -> None:
    parsed = parse_html(
        '<b>录取</b> &lt;script&gt; <i>a <u>b</u></i> 😀 <a href="https://x.cn">x</a>'
    )
    html = entities_to_html(parsed.text, parsed.entities)
    assert html == (
        "<b>录取</b> &lt;script&gt; <i>a <u>b</u></i> 😀 "
        '<a href="https://x.cn" target="_blank" rel="noopener">x</a>'
    )
    # After an emoji (two UTF-16 units) offsets still land; a javascript: link stays text.
    parsed = parse_html('😀<b>粗</b>\n<a href="javascript:alert(1)">y</a>')
    assert entities_to_html(parsed.text, parsed.entities) == "😀<b>粗</b><br>y"


def test_a_button_is_found_by_a_loose_label() -> None:
    labels = ["📝 学员注册", "🔑 登录已有账号", "内科", "神经内科", "⬅️ 返回", "⬅️ 返回列表"]
    assert match_label("学员注册", labels) == "📝 学员注册"
    assert match_label("登录", labels) == "🔑 登录已有账号"
    assert match_label("内科", labels) == "内科"  # exact before a part
    assert match_label("返回", labels) == "⬅️ 返回"  # without emoji, exact
    with pytest.raises(ValueError, match="no button"):
        match_label("报名", labels)
    with pytest.raises(ValueError, match="several"):
        match_label("科", labels)


def test_the_demo_clock_moves_forward_and_keeps_its_offset(tmp_path: Path) -> None:
    clock = DemoClock(tmp_path / "clock.json")
    start = clock.now()
    clock.advance(timedelta(hours=13))
    assert clock.now() - start >= timedelta(hours=13)
    again = DemoClock(tmp_path / "clock.json")
    assert again.offset == timedelta(hours=13)
    assert again.now() >= datetime.now(UTC) + timedelta(hours=13) - timedelta(seconds=5)
    with pytest.raises(ValueError):
        clock.advance(timedelta(hours=-1))


async def test_the_chat_archive_restores_messages_keyboards_files_and_menus(
    tmp_path: Path,
) -> None:
    keyboard = {"inline_keyboard": [[{"text": "✅ 接受", "callback_data": "acc:1"}]]}
    async with BotApiEmulator() as first:
        user = first.user(10_001)
        chat = first.state.open_chat(user.api)
        first.state.add_bot_message(chat, html="<b>hi</b>", text="hi", reply_markup=keyboard)
        stored = first.state.files.add(
            b"%PDF-1.4", file_name="form.pdf", mime_type="application/pdf"
        )
        first.state.add_bot_message(chat, text="", document=stored)
        first.state.commands.set({"type": "chat", "chat_id": 10_001}, "", [
            {"command": "status", "description": "状态"}
        ])  # fmt: skip
        ChatArchive(tmp_path).save(first.state)
        saved = [m.to_api() for m in first.messages(10_001)]
    async with BotApiEmulator() as second:
        assert ChatArchive(tmp_path).load(second.state)
        assert [m.to_api() for m in second.messages(10_001)] == saved
        restored = second.messages(10_001)
        assert restored[0].callback_data("✅ 接受") == "acc:1"
        assert restored[1].document is not None and restored[1].document.data == b"%PDF-1.4"
        assert [c.command for c in second.visible_commands(10_001, "zh-hans")] == ["status"]
        # New messages continue the ids and the global order.
        later = second.state.add_bot_message(second.state.chats[10_001], text="next")
        assert later.message_id == 3 and later.seq > restored[1].seq
        assert second.state.files.add(b"x").file_id != stored.file_id


async def test_a_bot_api_violation_reaches_the_page_and_the_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    import aiohttp

    from bot.webchat.actions import Sandbox
    from bot.webchat.events import Hub

    async with BotApiEmulator() as emulator:
        emulator.user(10_001)
        emulator.state.open_chat(emulator.user(10_001).api)
        hub = Hub()
        page = hub.subscribe()
        sandbox = Sandbox(emulator, None, DemoClock(), hub)  # type: ignore[arg-type]
        async with aiohttp.ClientSession() as http:
            url = f"{emulator.url}/bot{emulator.token}/sendMessage"
            body = {"chat_id": 10_001, "text": "<b>unclosed", "parse_mode": "HTML"}
            async with http.post(url, json=body) as response:
                assert response.status == 400
        with caplog.at_level("ERROR", logger="zhupei.sandbox"):
            fresh = sandbox.collect_problems()
        assert len(fresh) == 1 and "sendMessage" in fresh[0]
        assert sandbox.problems == fresh
        assert page.get_nowait() == {"type": "problem", "text": fresh[0]}
        assert any("Bot API violation" in r.getMessage() for r in caplog.records)
        assert sandbox.collect_problems() == []  # each one is reported once
