"""Floods: a user sending a hundred messages a second gets one notice to slow down and the rest
are dropped for a few database writes, without slowing anybody else; messages to one chat are
paced within Telegram's per-chat limit, also when several instances send (Redis)."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import func, select

from bot.app import build_bot
from bot.config import Settings
from bot.flood import FloodControl
from bot.rates import RedisCells
from storage.models import AuditLog, InboxUpdate, UpdateLog
from tests.conftest import redis_url_or_skip
from tests.hardening.kit import (
    SLOW_DOWN,
    all_processed,
    command,
    fresh_user_id,
    no_apology,
    press_payload,
    real_limits,
    restart_with_kit,
    texts,
)
from tests.harness import BotHarness


def flood_control(app: BotHarness) -> FloodControl:
    assert app.dp is not None
    return next(m for m in app.dp.update.outer_middleware if isinstance(m, FloodControl))


async def count(app: BotHarness, model, *where) -> int:  # type: ignore[no-untyped-def]
    async with app.ctx() as ctx:
        stmt = select(func.count()).select_from(model)
        for clause in where:
            stmt = stmt.where(clause)
        return int(await ctx.session.scalar(stmt) or 0)


async def test_a_hundred_messages_in_a_second_get_one_notice_and_cost_a_few_writes(
    app: BotHarness,
) -> None:
    real_limits(app)
    await restart_with_kit(app)
    settings = app.services.settings
    flooder = app.user(fresh_user_id(), language_code="zh-hans")
    other = app.user(fresh_user_id(), language_code="en")
    logged_before = await count(app, UpdateLog)

    started = time.monotonic()
    flood = [app.emulator.enqueue_update(command(flooder, f"/note {i}")) for i in range(100)]
    other_sent = time.monotonic()
    await other.send("/ping other")
    other_latency = time.monotonic() - other_sent
    await all_processed(app, flood)
    elapsed = time.monotonic() - started

    shown = texts(flooder)
    notices = [t for t in shown if t == SLOW_DOWN[0]]
    handled = [t for t in shown if t.startswith("noted ")]
    assert len(notices) == 1, shown  # in the user's language (zh-hans here)
    allowed = settings.flood_burst + settings.flood_rate_per_second * elapsed + 1
    assert settings.flood_burst <= len(handled) <= allowed, (len(handled), elapsed)
    assert len(shown) == len(handled) + 1
    no_apology(flooder)
    # Only the handled ones had an effect.
    assert await count(app, AuditLog, AuditLog.action == "note") == len(handled)
    # Every update of the flood is marked handled (a replay would skip it), in a few statements.
    marks = flood_control(app).marks
    assert await count(app, UpdateLog) - logged_before == 101
    assert marks.transactions <= 5, marks.transactions
    for _ in range(100):  # the inbox forgets handled updates in batches
        if await count(app, InboxUpdate) == 0:
            break
        await asyncio.sleep(0.05)
    assert await count(app, InboxUpdate) == 0
    # The other user was not held up by the flood.
    assert texts(other) == ["pong other"]
    assert other_latency < 3.0, other_latency


async def test_a_dropped_update_delivered_again_stays_dropped(app: BotHarness) -> None:
    real_limits(app, flood_burst=2, flood_rate_per_second=0.5)
    await restart_with_kit(app)
    user = app.user(fresh_user_id(), language_code="en")
    payloads = [command(user, f"/note {i}") for i in range(5)]
    ids = [app.emulator.enqueue_update(p) for p in payloads]
    await all_processed(app, ids)
    assert texts(user).count(SLOW_DOWN[1]) == 1
    noted = await count(app, AuditLog, AuditLog.action == "note")
    assert noted == 2
    # The same updates again, straight into the dispatcher (a webhook redelivery, an inbox
    # replay): nothing runs twice and nothing more is said.
    assert app.dp is not None and app.bot is not None
    updates = [app.emulator.state.updates.records[i].payload | {"update_id": i} for i in ids]
    from aiogram.types import Update

    await asyncio.sleep(2.5)  # the user's cell has room again: only the marks stop them
    for item in updates:
        await app.dp.feed_update(app.bot, Update.model_validate(item, context={"bot": app.bot}))
    assert await count(app, AuditLog, AuditLog.action == "note") == noted
    assert texts(user).count(SLOW_DOWN[1]) == 1
    assert len(texts(user)) == 3


async def test_a_flood_of_presses_is_answered_press_by_press_with_one_effect_each(
    app: BotHarness,
) -> None:
    real_limits(app)
    await restart_with_kit(app)
    settings = app.services.settings
    user = app.user(fresh_user_id(), language_code="en")
    await user.send("/pick")
    screen = user.last_bot_message()
    started = time.monotonic()
    ids = [
        app.emulator.enqueue_update(press_payload(user, screen, "probe:pick")) for _ in range(40)
    ]
    await all_processed(app, ids)
    elapsed = time.monotonic() - started
    answers = [c.answer or {} for c in app.emulator.state.callbacks.values()]
    assert len(answers) == 40
    assert all(c.answered for c in app.emulator.state.callbacks.values())
    picked = [a for a in answers if a.get("text") == "picked"]
    slowed = [a for a in answers if a.get("text") == SLOW_DOWN[1]]
    assert len(picked) + len(slowed) == 40
    # /pick took one of the burst.
    assert (
        settings.flood_burst - 1
        <= len(picked)
        <= settings.flood_burst + settings.flood_rate_per_second * elapsed + 1
    )
    assert await count(app, AuditLog, AuditLog.action == "pick") == len(picked)
    assert texts(user) == ["chosen"]  # no message for a press flood, the toast says it
    no_apology(user)


async def test_replies_to_one_chat_are_paced_within_the_per_chat_limit(app: BotHarness) -> None:
    real_limits(app, chat_send_burst=3, chat_send_per_second=4.0)
    await restart_with_kit(app)
    user = app.user(fresh_user_id(), language_code="en")
    other = app.user(fresh_user_id(), language_code="en")
    # One update sending several messages, and several updates of the same chat at once.
    first = app.emulator.enqueue_update(command(user, "/many 6"))
    more = [app.emulator.enqueue_update(command(user, f"/ping {i}")) for i in range(4)]
    other_sent = time.monotonic()
    await other.send("/ping other")
    other_latency = time.monotonic() - other_sent
    await all_processed(app, [first, *more])
    sent = sorted(
        c.monotonic for c in app.emulator.calls_to("sendMessage") if c.chat_id == user.chat_id
    )
    assert len(sent) == 10
    interval, burst = 1 / 4.0, 3
    for k, at in enumerate(sent):
        # The k-th message goes no earlier than the cell allows (a little jitter aside).
        assert at - sent[0] >= (k - (burst - 1)) * interval - 0.03, (k, at - sent[0])
    assert sent[-1] - sent[0] >= (10 - burst) * interval - 0.05
    assert [t for t in texts(user) if t.startswith("part ")] == [f"part {i}" for i in range(1, 7)]
    assert other_latency < 1.5, other_latency  # another chat does not wait for this one


async def test_two_instances_share_one_pace_per_chat_through_redis(app: BotHarness) -> None:
    url = redis_url_or_skip()
    settings = Settings(_env_file=None, redis_url=url, chat_send_burst=2, chat_send_per_second=4.0)  # type: ignore[call-arg]
    user = app.user(fresh_user_id(), language_code="en")
    await user.send("/start")
    before = len(app.emulator.calls_to("sendMessage"))
    bots = [build_bot(app.emulator.token, app.emulator.url, settings) for _ in range(2)]
    try:
        await asyncio.gather(
            *(
                bot.send_message(user.chat_id, f"from {n} #{i}")
                for i in range(4)
                for n, bot in enumerate(bots)
            )
        )
    finally:
        for bot in bots:
            await bot.session.close()
    sent = sorted(c.monotonic for c in app.emulator.calls_to("sendMessage")[before:])
    assert len(sent) == 8
    assert sent[-1] - sent[0] >= (8 - 2) * 0.25 - 0.05, sent[-1] - sent[0]


async def test_flood_counting_is_shared_by_instances_through_redis() -> None:
    url = redis_url_or_skip()
    from redis.asyncio import Redis

    clients = [Redis.from_url(url) for _ in range(2)]
    cells = [RedisCells(c, "zhupei:flood:test", burst=5, rate_per_second=0.1) for c in clients]
    key = f"user:{fresh_user_id()}"
    try:
        verdicts = [await cells[i % 2].admit(key) for i in range(20)]
        firsts = [await cells[i % 2].once(key, 60) for i in range(4)]
    finally:
        for cell in cells:
            await cell.close()
    assert verdicts == [True] * 5 + [False] * 15
    assert firsts == [True, False, False, False]
