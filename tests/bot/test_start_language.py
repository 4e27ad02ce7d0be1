"""The first minutes of any user: /start, /help, /language, /cancel, in both languages."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import TelegramUser
from tests.harness import BotHarness


async def test_start_welcomes_in_chinese_by_default(app: BotHarness) -> None:
    user = app.user(501, language_code="zh-hans")
    await user.command("start")
    msg = user.last_bot_message()
    assert "欢迎使用广东省住院医师规范化培训招录助手" in msg.text
    assert [row[0] for row in msg.buttons] == ["📝 学员注册", "🔑 登录已有账号"]
    async with app.ctx() as ctx:
        row = await ctx.session.get(TelegramUser, 501)
        assert row is not None and row.account_id is None


async def test_english_telegram_client_gets_english(app: BotHarness) -> None:
    user = app.user(502, language_code="en")
    await user.command("start")
    assert (
        "Welcome to the Guangdong residency-training admission assistant"
        in user.last_bot_message().text
    )


async def test_language_switch_changes_every_later_text(app: BotHarness) -> None:
    user = app.user(503, language_code="zh-hans")
    await user.command("help")
    assert "可用命令" in user.last_bot_message().text
    await user.command("language")
    await user.press("English")
    assert user.last_bot_message().text == "The language is now English."
    await user.command("help")
    assert user.last_bot_message().text.startswith("Commands")
    await user.command("start")
    assert "Welcome to the Guangdong" in user.last_bot_message().text
    async with app.ctx() as ctx:
        locale = await ctx.session.scalar(select(TelegramUser.locale).where(TelegramUser.id == 503))
    assert locale == "en"
    commands = {c.command: c.description for c in user.visible_commands()}
    assert commands["help"] == "Help"
    await user.command("language")
    await user.press("简体中文")
    assert user.last_bot_message().text == "语言已切换为简体中文。"
    await user.command("cancel")
    assert user.last_bot_message().text == "当前没有进行中的操作。"


async def test_unknown_text_gets_a_hint(app: BotHarness) -> None:
    user = app.user(504, language_code="en")
    await user.send("hello?")
    assert "Send /help" in user.last_bot_message().text
