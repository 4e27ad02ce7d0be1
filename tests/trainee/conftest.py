"""Fixtures of the trainee journey tests: fast password hashing, the reference world, trainees
bound to scripted users, and the codes the development SMS provider writes to the log."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Callable

import pytest
from argon2 import PasswordHasher
from reportlab.pdfgen import canvas

from bot.emulator import ScriptedUser
from tests.factories import World, build_world, make_trainee
from tests.harness import BotHarness
from workflow import accounts
from workflow.actor import Actor


@pytest.fixture(autouse=True)
def fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2id with the smallest parameters: the dialogs are under test, not the hash's cost."""
    monkeypatch.setattr(
        accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )


@pytest.fixture
async def world(app: BotHarness) -> World:
    async with app.ctx() as ctx:
        return await build_world(ctx)


TraineeFactory = Callable[..., "tuple[ScriptedUser, Actor]"]


@pytest.fixture
def trainee(app: BotHarness):  # type: ignore[no-untyped-def]
    """`await trainee(user_id, ...)`: a registered trainee bound to the scripted user, who has
    said /start (so notices can reach the chat)."""

    async def make(
        user_id: int, *, language_code: str = "zh-hans", **kw: object
    ) -> tuple[ScriptedUser, Actor]:
        user = app.user(user_id, language_code=language_code)
        await user.command("start")  # the chat exists, as it does for whoever registered
        async with app.ctx() as ctx:
            actor = await make_trainee(ctx, tg_user_id=user_id, **kw)  # type: ignore[arg-type]
        return user, actor

    return make


@pytest.fixture
def sms_codes(caplog: pytest.LogCaptureFixture) -> Callable[[], list[str]]:
    """The codes the logging SMS provider wrote so far, oldest first."""
    caplog.set_level(logging.INFO, logger="zhupei.sms")

    def codes() -> list[str]:
        return [
            m[1]
            for r in caplog.records
            if r.name == "zhupei.sms" and (m := re.search(r"code (\d{6})", r.getMessage()))
        ]

    return codes


def pdf_bytes(text: str = "reduction form") -> bytes:
    buf = io.BytesIO()
    page = canvas.Canvas(buf)
    page.drawString(72, 720, text)
    page.showPage()
    page.save()
    return buf.getvalue()


async def press_data(user: ScriptedUser, message, data: str):  # type: ignore[no-untyped-def]
    """Press a button that is not (or no longer) on the message: an old or forged callback."""
    emulator = user.emulator
    query_id = emulator.next_callback_id()
    query = {
        "id": query_id,
        "from": user.api,
        "message": message.to_api(),
        "chat_instance": f"ci{user.chat_id}",
        "data": data,
    }
    record, _ = emulator.submit_update({"callback_query": query})
    await emulator.wait_processed(record.update_id)
    return emulator.state.callbacks[query_id]


def last_answer(user: ScriptedUser) -> dict:  # type: ignore[type-arg]
    """What the bot answered to the user's latest button press (an alert's text, say)."""
    callbacks = user.emulator.state.callbacks
    return callbacks[max(callbacks)].answer or {}
