"""What an update wrote before the bot told the user something is committed by then; a refusal
raised afterwards rolls back only what came after it."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message
from sqlalchemy import select

from handlers import build_routers
from storage.models import AuditLog
from tests.harness import BotHarness
from workflow.audit import audit
from workflow.context import Ctx
from workflow.errors import DomainError


def _told_then_refused() -> Router:
    router = Router(name="told-then-refused")

    @router.message(Command("save"))
    async def save(message: Message, ctx: Ctx) -> None:
        audit(ctx, None, "probe", 1, "before_reply")
        await message.answer("saved")
        audit(ctx, None, "probe", 1, "after_reply")
        raise DomainError("pdf.not_pdf")

    return router


async def test_what_the_user_was_told_of_is_kept_after_a_later_refusal(app: BotHarness) -> None:
    await app.restart(routers=[_told_then_refused(), *build_routers()])
    user = app.user(611, language_code="en")
    await user.send("/save")
    said = [m.text for m in user.bot_messages()]
    assert said[0] == "saved"
    assert "PDF" in said[1]
    async with app.ctx() as ctx:
        actions = (
            await ctx.session.scalars(select(AuditLog.action).where(AuditLog.entity == "probe"))
        ).all()
    assert actions == ["before_reply"]
