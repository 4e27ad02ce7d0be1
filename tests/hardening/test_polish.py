"""What users meet at the edges: the time left said to the minute in a reminder, the accept
buttons labelled alike in the reminder and on the status card, and a user who blocked the bot
logged at INFO without a traceback wherever the bot meets the 403."""

from __future__ import annotations

import logging
from datetime import datetime

import pytest

from tests import factories
from tests.conftest import SHANGHAI
from tests.harness import BotHarness
from workflow import reminders as R
from workflow.notices import notify

ACCEPT_ROW = ["✅ 接受录取结果", "❌ 拒绝"]


async def test_the_reminder_says_the_minutes_and_labels_its_buttons_like_the_card(
    app: BotHarness,
    trainee,  # type: ignore[no-untyped-def]
) -> None:
    app.services.settings.outbox_per_chat_interval_seconds = 0.01
    user, actor = await trainee(7501)
    async with app.ctx() as ctx:
        world = await factories.build_world(ctx)
        application = await factories.sent(ctx, world, actor)
    app.clock.set(datetime(2026, 7, 21, 8, 35, tzinfo=SHANGHAI))  # 1 h 25 min before the end
    async with app.ctx() as ctx:
        await notify(ctx, actor.account_id, R.CONFIRM_CLOSING, f"application:{application.id}")
    await app.deliver()
    reminder = user.last_bot_message()
    assert "录取结果确认即将截止" in reminder.text
    assert "还剩 1 小时 25 分。" in reminder.text
    assert reminder.buttons == [ACCEPT_ROW, ["📅 加入日历"]]
    await user.command("status")
    card = user.last_bot_message()
    assert "还剩 1 小时 25 分" in card.text
    assert any(row[0].startswith(ACCEPT_ROW[0]) and row[1] == ACCEPT_ROW[1] for row in card.buttons)


async def test_a_blocked_user_is_logged_at_info_without_a_traceback(
    app: BotHarness,
    trainee,  # type: ignore[no-untyped-def]
    caplog: pytest.LogCaptureFixture,
) -> None:
    user, _actor = await trainee(7502)
    app.emulator.block_chat(user.chat_id)
    with caplog.at_level(logging.INFO):
        await user.command("help")  # the reply meets the 403
        await user.command("status")
        async with app.ctx() as ctx:
            await notify(ctx, _actor.account_id, R.TEST, "account:1", urgent=True)
        await app.deliver()  # and so does the outbox sender
    forbidden = [c for c in app.emulator.calls if c.status == 403]
    assert len(forbidden) >= 3
    blocked = [r for r in caplog.records if "blocked" in r.getMessage()]
    assert blocked and all(r.levelno == logging.INFO for r in blocked)
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert [r for r in caplog.records if r.exc_info] == []
