"""An update's owed replies have one sender at a time: a sending that runs longer than its
lease (a 429 waited out) keeps the lease, so the periodic sweep of owed replies does not send
them a second time meanwhile."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select

from bench.probe import build_probe_router
from bot import unit
from bot.unit import deliver_owed
from handlers import build_routers
from storage.models import UpdateLog
from tests.harness import BotHarness


async def test_a_reply_waiting_out_a_429_is_not_taken_over_and_sent_twice(
    app: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(unit, "REPLY_LEASE", timedelta(seconds=1))
    await app.restart(routers=[build_probe_router(), *build_routers()])
    user = app.user(807, language_code="en")
    app.emulator.inject_failure(429, retry_after=2, method="sendMessage")
    sending = asyncio.create_task(user.send("/note 5"))
    deadline = asyncio.get_running_loop().time() + 10
    while not any(c.status == 429 for c in app.emulator.calls_to("sendMessage")):
        assert asyncio.get_running_loop().time() < deadline, "no 429"
        await asyncio.sleep(0.02)
    # The reply waits out the 429; its lease (1 s from the commit) would have run out by now.
    app.clock.advance(seconds=5)
    assert app.bot is not None
    assert await deliver_owed(app.services, app.bot) == 0
    await sending
    await asyncio.sleep(0.5)
    assert [m.text for m in user.bot_messages()] == ["noted 5"]
    async with app.ctx() as ctx:
        owed = await ctx.session.scalar(
            select(UpdateLog.update_id).where(UpdateLog.replies_enc.is_not(None))
        )
    assert owed is None
