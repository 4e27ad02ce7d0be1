"""One update, one effect, one reply: a crash at any moment neither loses nor repeats a step.

The crashes here stop the polling loop of the test's bot mid-update (the in-process equivalent
of a kill: nothing after that moment runs); tests/crash/ kills a real process."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import func, select

from bench.probe import build_probe_router
from bot.app import build_bot, build_dispatcher
from bot.emulator.tracking import ProcessedTracker
from bot.polling import DurablePolling
from bot.unit import deliver_owed
from handlers import build_routers
from storage.models import AuditLog, InboxUpdate, UpdateLog
from tests.harness import BotHarness


def command(user: Any, text: str) -> dict[str, Any]:
    name = text.split()[0]
    return {
        "message": {
            "from": user.api,
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": len(name)}],
        }
    }


class CrashableBot:
    """A bot process of the test: its polling loop can be stopped dead at any moment."""

    def __init__(self, app: BotHarness) -> None:
        self.app = app
        self.bot = build_bot(app.emulator.token, app.emulator.url)
        self.dp = build_dispatcher(app.services, routers=[build_probe_router(), *build_routers()])
        ProcessedTracker(app.emulator).install(self.dp)
        self.polling = DurablePolling(
            self.dp,
            self.bot,
            app.db,
            app.clock,
            app.services.cipher,
            poll_timeout=1,
            drain_timeout=0,
        )
        self.task = asyncio.create_task(self.polling.run())

    async def started(self) -> None:
        await asyncio.wait_for(self.polling.started.wait(), 10)

    async def crash(self) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)
        await self.bot.session.close()


async def notes(app: BotHarness) -> list[int]:
    async with app.ctx() as ctx:
        return list(
            (
                await ctx.session.scalars(
                    select(AuditLog.entity_id).where(AuditLog.action == "note")
                )
            ).all()
        )


async def wait_for(predicate: Any, timeout: float = 10.0) -> None:  # noqa: ASYNC109
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_a_crash_between_the_commit_and_the_reply_loses_no_reply(app: BotHarness) -> None:
    await app.stop()
    user = app.user(801, language_code="en")
    first = CrashableBot(app)
    await first.started()
    hold = app.emulator.hold("sendMessage")  # the reply is on its way when the process dies
    app.emulator.enqueue_update(command(user, "/note 5"))
    await asyncio.wait_for(hold.reached.wait(), 10)
    await first.crash()
    hold.release.set()
    assert user.bot_messages() == []
    assert await notes(app) == [5]  # the effect is committed, with the reply it owes
    async with app.ctx() as ctx:
        row = await ctx.session.get(UpdateLog, 1)
        assert row is not None and row.replies_enc is not None

    await app.start(routers=[build_probe_router(), *build_routers()])
    await wait_for(lambda: user.bot_messages())
    await app.stop()
    assert [m.text for m in user.bot_messages()] == ["noted 5"]
    assert await notes(app) == [5]  # not handled again
    async with app.ctx() as ctx:
        row = await ctx.session.get(UpdateLog, 1)
        assert row is not None and row.replies_enc is None
        assert await ctx.session.scalar(select(func.count()).select_from(InboxUpdate)) == 0
    await app.start()


async def test_an_update_fetched_again_after_a_crash_runs_once(app: BotHarness) -> None:
    """The batch was stored and handled, but the process died before the next getUpdates
    confirmed it: Telegram delivers it again, and the inbox still has it."""
    await app.stop()
    user = app.user(802, language_code="en")
    first = CrashableBot(app)
    await first.started()
    update_id = app.emulator.enqueue_update(command(user, "/note 6"))
    confirm = app.emulator.hold(  # the call that would confirm the batch
        "getUpdates", where=lambda params: (params.get("offset") or 0) > update_id
    )
    await asyncio.wait_for(confirm.reached.wait(), 10)
    await app.emulator.wait_processed(update_id, timeout=20)  # handled, reply sent and recorded
    await first.crash()
    confirm.release.set()

    await app.start(routers=[build_probe_router(), *build_routers()])
    await asyncio.sleep(1.5)  # time for the redelivery to arrive and be recognised
    await app.stop()
    assert [m.text for m in user.bot_messages()] == ["noted 6"]
    assert await notes(app) == [6]
    await app.start()


async def test_a_lost_response_to_an_edit_repeats_nothing_visible(app: BotHarness) -> None:
    await app.stop()
    user = app.user(803, language_code="en")
    await app.start(routers=[build_probe_router(), *build_routers()])
    await user.send("/pick")
    await app.stop()
    first = CrashableBot(app)
    await first.started()
    hold = app.emulator.hold("editMessageText", after=True)  # done, the answer lost
    message = user.last_bot_message()
    app.emulator.enqueue_update(
        {
            "callback_query": {
                "id": app.emulator.next_callback_id(),
                "from": user.api,
                "chat_instance": "1",
                "message": message.to_api(),
                "data": "probe:pick",
            }
        }
    )
    await asyncio.wait_for(hold.reached.wait(), 10)
    await first.crash()
    hold.release.set()
    await app.start(routers=[build_probe_router(), *build_routers()])
    await asyncio.sleep(0.5)
    await app.stop()
    texts = [m.text for m in user.bot_messages()]
    assert texts == ["chosen"]  # the edited message, once; nothing new in the chat
    async with app.ctx() as ctx:
        picks = await ctx.session.scalar(
            select(func.count()).select_from(AuditLog).where(AuditLog.action == "pick")
        )
        assert picks == 1
    await app.start()


async def test_a_press_answered_too_late_still_gets_its_reply(app: BotHarness) -> None:
    await app.restart(routers=[build_probe_router(), *build_routers()])
    user = app.user(804, language_code="en")
    await user.send("/pick")
    app.emulator.inject_failure(
        400,
        method="answerCallbackQuery",
        description="Bad Request: query is too old and response timeout expired or query ID "
        "is invalid",
    )
    app.emulator.raise_processing_errors = False
    await user.press("pick")
    texts = [m.text for m in user.bot_messages()]
    assert texts == ["chosen", "picked"]  # the screen is edited; the toast comes as a message
    app.emulator.unanswered_callbacks.clear()  # the emulator refused the answer on purpose


async def test_a_429_on_a_reply_is_waited_out_not_apologised_for(app: BotHarness) -> None:
    await app.restart(routers=[build_probe_router(), *build_routers()])
    user = app.user(805, language_code="en")
    app.emulator.inject_failure(429, retry_after=1, method="sendMessage")
    await user.send("/note 7")
    assert [m.text for m in user.bot_messages()] == ["noted 7"]


async def test_a_long_429_postpones_the_reply_which_comes_later(app: BotHarness) -> None:
    app.services.settings.reply_retry_max_seconds = 1
    await app.restart(routers=[build_probe_router(), *build_routers()])
    user = app.user(806, language_code="en")
    app.emulator.inject_failure(429, retry_after=5, method="sendMessage")
    await user.send("/note 8")
    assert user.bot_messages() == []  # no apology either
    app.clock.advance(seconds=6)
    assert app.bot is not None
    assert await deliver_owed(app.services, app.bot) == 1
    assert [m.text for m in user.bot_messages()] == ["noted 8"]
    assert await notes(app) == [8]
