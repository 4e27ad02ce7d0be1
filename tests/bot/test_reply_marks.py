"""A reply Telegram accepted is not sent again after a crash that came before the database
recorded it: the unit notes each call the moment it went out (bot/reply_marks.py)."""

from __future__ import annotations

import asyncio
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select

from bench.probe import build_probe_router
from bot import reply_marks
from bot.reply_marks import ReplyMarks, key_of
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


def test_the_marks_survive_a_restart_and_the_file_keeps_only_what_is_still_owed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "data" / "replies-sent.log"
    at = datetime(2026, 7, 1, 2, 0, tzinfo=UTC)
    first = ReplyMarks(path)
    first.note(key_of(7, at), 1)
    first.note(key_of(7, at), 2)
    first.note(key_of(8, at), 1)
    first.close()
    again = ReplyMarks(path)  # the next start reads what the killed process noted
    assert (again.sent(key_of(7, at)), again.sent(key_of(8, at))) == (2, 1)
    # The same update id from another database (another handled_at) is a different update.
    assert again.sent(key_of(7, at + timedelta(days=1))) == 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    monkeypatch.setattr(reply_marks, "REWRITE_BYTES", 1)
    again.rewrite({key_of(8, at)})
    assert path.read_text().splitlines() == [f"8 {int(at.timestamp())} 1"]
    assert ReplyMarks(path).sent(key_of(7, at)) == 0
