"""Polling loses no update: what was fetched (and so confirmed to Telegram) but not finished
when the process died is handled at the next start, once."""

from __future__ import annotations

import asyncio

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from sqlalchemy import func, select

from bot.app import build_bot, build_dispatcher
from bot.emulator.tracking import ProcessedTracker
from bot.polling import DurablePolling
from storage.models import AuditLog, InboxUpdate
from tests.harness import BotHarness
from workflow.audit import audit
from workflow.context import Ctx


def gated_router(gate: asyncio.Event, entered: asyncio.Event) -> Router:
    """`/work N` writes a row once the gate opens: a handler still running at a crash."""
    router = Router(name="gated")

    @router.message(Command("work"))
    async def work(message: Message, command: CommandObject, ctx: Ctx) -> None:
        entered.set()
        await gate.wait()
        audit(ctx, None, "work", int(command.args or 0), "done")
        await ctx.session.commit()
        await message.answer(f"done {command.args}")

    return router


async def test_an_update_in_flight_at_a_crash_is_handled_after_the_restart(
    app: BotHarness,
) -> None:
    await app.stop()
    gate, entered = asyncio.Event(), asyncio.Event()
    user = app.user(701, language_code="en")

    # First run: the update is fetched, stored, confirmed by the next getUpdates… and the
    # process dies while its handler waits.
    bot = build_bot(app.emulator.token, app.emulator.url)
    dp = build_dispatcher(app.services, routers=[gated_router(gate, entered)])
    ProcessedTracker(app.emulator).install(dp)
    first = DurablePolling(
        dp, bot, app.db, app.clock, app.services.cipher, poll_timeout=1, drain_timeout=0
    )
    run = asyncio.create_task(first.run())
    app.emulator.enqueue_update(
        {
            "message": {
                "from": user.api,
                "text": "/work 7",
                "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
            }
        }
    )
    await asyncio.wait_for(entered.wait(), 10)
    await asyncio.sleep(1.5)  # the poll after the fetch has confirmed it to Telegram
    run.cancel()
    await asyncio.gather(run, return_exceptions=True)
    assert await bot.get_updates(timeout=0) == []  # Telegram will not deliver it again
    await bot.session.close()
    async with app.ctx() as ctx:
        (kept,) = (await ctx.session.scalars(select(InboxUpdate))).all()
        assert b"/work 7" not in kept.payload_enc  # stored encrypted, like all personal data
        assert await ctx.session.scalar(select(func.count()).select_from(AuditLog)) == 0
    assert user.bot_messages() == []

    # Second run on the same database: the stored update is handled, once.
    gate.set()
    await app.start(routers=[gated_router(gate, asyncio.Event())])
    for _ in range(100):
        if user.bot_messages():
            break
        await asyncio.sleep(0.05)
    await app.stop()
    assert [m.text for m in user.bot_messages()] == ["done 7"]
    async with app.ctx() as ctx:
        rows = (await ctx.session.scalars(select(AuditLog).where(AuditLog.entity == "work"))).all()
        assert [(r.entity_id, r.action) for r in rows] == [(7, "done")]
        assert await ctx.session.scalar(select(func.count()).select_from(InboxUpdate)) == 0
    await app.start()  # the fixture stops it again
