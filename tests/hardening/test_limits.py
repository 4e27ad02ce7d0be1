"""Telegram's limits met on every kind of call the bot makes while handling an update: a 429 is
waited out and the user gets the reply once, without the apology; a long one postpones the
replies, which come later, files included; a 403 (the user blocked the bot) ends the call
quietly, logged at INFO without a traceback, and the rest of the update's calls still go out."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from bot.emulator import ScriptedUser
from bot.unit import deliver_owed
from storage.models import UpdateLog
from tests.hardening.kit import fresh_user_id, no_apology, restart_with_kit, texts
from tests.harness import BotHarness


@dataclass
class Case:
    method: str
    act: Callable[[ScriptedUser], Awaitable[object]]
    seen: Callable[[ScriptedUser], bool]  # what the user sees when the call went out


async def pick(user: ScriptedUser) -> object:
    await user.send("/pick")
    return await user.press("pick")


def answered_picked(user: ScriptedUser) -> bool:
    answers = [
        q.answer for q in user.emulator.state.callbacks.values() if q.user_id == user.user_id
    ]
    return [a.get("text") if a else None for a in answers] == ["picked"]


def document_sent(user: ScriptedUser) -> bool:
    docs = [m for m in user.bot_messages() if m.document is not None]
    return len(docs) == 1 and docs[0].text == "kit" and docs[0].document.data == b"%PDF-1.4 kit"


def forgotten(user: ScriptedUser) -> bool:
    mine = [m for m in user.messages if not m.from_bot and m.text == "/forget"]
    return len(mine) == 1 and mine[0].deleted


CASES = [
    Case("sendMessage", lambda u: u.send("/ping x"), lambda u: texts(u) == ["pong x"]),
    Case("editMessageText", pick, lambda u: texts(u) == ["chosen"]),
    Case("answerCallbackQuery", pick, answered_picked),
    Case("sendDocument", lambda u: u.send("/doc"), document_sent),
    Case("deleteMessage", lambda u: u.send("/forget"), forgotten),
    Case(
        "setMyCommands",
        lambda u: u.send("/menu"),
        lambda u: [c.command for c in u.visible_commands()] == ["kit"],
    ),
]
IDS = [case.method for case in CASES]


@pytest.fixture
async def kit_app(app: BotHarness) -> BotHarness:
    await restart_with_kit(app)
    return app


def calls_of(app: BotHarness, method: str, user: ScriptedUser) -> list[int]:
    def aimed(params: dict) -> bool:  # type: ignore[type-arg]
        scope = params.get("scope")
        return isinstance(scope, dict) and scope.get("chat_id") == user.chat_id

    return [
        c.status
        for c in app.emulator.calls_to(method)
        if c.chat_id == user.chat_id or aimed(c.params)
    ]


def quiet_log(caplog: pytest.LogCaptureFixture) -> None:
    loud = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not loud, [(r.name, r.getMessage()) for r in loud]


@pytest.mark.parametrize("case", CASES, ids=IDS)
async def test_a_429_on_any_call_is_waited_out_and_the_user_gets_it_once(
    kit_app: BotHarness, case: Case, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    user = kit_app.user(fresh_user_id(), language_code="en")
    kit_app.emulator.inject_failure(429, retry_after=1, method=case.method)
    await case.act(user)
    assert case.seen(user), (texts(user), user.messages)
    assert calls_of(kit_app, case.method, user) == [429, 200]  # nothing repeated
    no_apology(user)
    quiet_log(caplog)


@pytest.mark.parametrize("case", CASES, ids=IDS)
async def test_a_403_on_any_call_ends_it_quietly(
    kit_app: BotHarness, case: Case, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    user = kit_app.user(fresh_user_id(), language_code="en")
    kit_app.emulator.inject_failure(403, method=case.method)
    await case.act(user)
    assert not case.seen(user)
    assert calls_of(kit_app, case.method, user)[:1] == [403]
    no_apology(user)
    quiet_log(caplog)
    assert any(
        r.levelno == logging.INFO and "blocked the bot" in r.getMessage() for r in caplog.records
    )
    if case.method == "deleteMessage":  # the update's other calls still went out
        assert texts(user) == ["forgotten"]
    async with kit_app.ctx() as ctx:  # handled, and nothing left owed
        owed = await ctx.session.scalar(select(UpdateLog).where(UpdateLog.replies_enc.is_not(None)))
    assert owed is None
    if case.method == "answerCallbackQuery":
        kit_app.emulator.unanswered_callbacks.clear()  # the emulator refused it on purpose


async def test_429s_inside_one_update_keep_its_replies_in_order_without_repeats(
    kit_app: BotHarness,
) -> None:
    user = kit_app.user(fresh_user_id(), language_code="en")
    kit_app.emulator.inject_failure(429, retry_after=1, method="sendMessage", times=2)
    await user.send("/many 4")
    assert texts(user) == ["part 1", "part 2", "part 3", "part 4"]
    no_apology(user)


async def test_a_long_429_on_a_document_postpones_it_with_its_file(kit_app: BotHarness) -> None:
    kit_app.services.settings.reply_retry_max_seconds = 1
    user = kit_app.user(fresh_user_id(), language_code="en")
    kit_app.emulator.inject_failure(429, retry_after=5, method="sendDocument")
    await user.send("/doc")
    assert user.bot_messages() == []  # later, and without an apology meanwhile
    kit_app.clock.advance(seconds=6)
    assert kit_app.bot is not None
    assert await deliver_owed(kit_app.services, kit_app.bot) == 1
    assert document_sent(user)
    no_apology(user)


async def test_a_user_who_blocked_the_bot_gets_nothing_and_is_served_after_unblocking(
    kit_app: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    user = kit_app.user(fresh_user_id(), language_code="en")
    await user.send("/pick")
    kit_app.emulator.block_chat(user.chat_id)
    await user.send("/ping 1")
    await user.press("pick")
    await user.send("/many 2")
    kit_app.emulator.unblock_chat(user.chat_id)
    assert texts(user) == ["choose"]
    quiet_log(caplog)
    await user.send("/ping 2")
    assert texts(user) == ["choose", "pong 2"]
    kit_app.emulator.unanswered_callbacks.clear()  # refused by the block on purpose
