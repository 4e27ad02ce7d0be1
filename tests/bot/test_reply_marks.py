"""A reply Telegram accepted is not sent again after a crash that came before the database
recorded it: the unit notes each call the moment it went out (bot/reply_marks.py)."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import event, select

from bench.probe import build_probe_router
from handlers import build_routers
from storage.models import UpdateLog
from tests.bot.test_update_unit import CrashableBot, command, notes, wait_for
from tests.harness import BotHarness


class ProcessDies(BaseException):
    """The process stops here: the sent reply is never recorded in the database, and nothing
    after this runs (no error handler, no apology: it is not an Exception)."""


async def test_a_reply_accepted_before_the_crash_is_not_sent_again(app: BotHarness) -> None:
    await app.stop()
    user = app.user(811, language_code="en")
    engine = app.db.engine.sync_engine

    def no_record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.startswith("UPDATE update_log SET replies_enc"):
            raise ProcessDies

    event.listen(engine, "before_cursor_execute", no_record)
    try:
        first = CrashableBot(app)
        await first.started()
        update_id = app.emulator.enqueue_update(command(user, "/note 9"))
        await wait_for(lambda: user.bot_messages())
        await first.crash()
    finally:
        event.remove(engine, "before_cursor_execute", no_record)
    async with app.ctx() as ctx:
        row = await ctx.session.get(UpdateLog, update_id)
        assert row is not None and row.replies_enc is not None  # owed, by the database

    await app.start(routers=[build_probe_router(), *build_routers()])
    await settled(app, update_id)
    await app.stop()
    assert [m.text for m in user.bot_messages()] == ["noted 9"]
    assert await notes(app) == [9]
    async with app.ctx() as ctx:
        owed = await ctx.session.scalar(
            select(UpdateLog.update_id).where(UpdateLog.replies_enc.is_not(None))
        )
        assert owed is None
    await app.start()


async def settled(app: BotHarness, update_id: int) -> None:
    """Until the update's row owes nothing (the restarted bot went through its owed replies)."""
    deadline = asyncio.get_running_loop().time() + 10
    while True:
        async with app.ctx() as ctx:
            row = await ctx.session.get(UpdateLog, update_id)
            if row is not None and row.replies_enc is None:
                return
        assert asyncio.get_running_loop().time() < deadline, "the owed reply was never settled"
        await asyncio.sleep(0.05)
