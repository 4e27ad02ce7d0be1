"""Typed answers and uploaded files for the staff dialogs' questions (`common.ask`). Included
after every staff command, so a command typed while a question is open still works (and drops
the question)."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import Message

from bot.i18n import Translator
from handlers.staff.common import INPUTS, StaffInput, asked, done_asking, make_env
from workflow.actor import Actor
from workflow.context import Ctx


def build_router() -> Router:
    router = Router(name="staff-inputs")

    async def dispatch(
        message: Message,
        ctx: Ctx,
        actor: Actor | None,
        i18n: Translator,
        state: FSMContext,
        bot: Bot,
    ) -> None:
        data = await asked(state)
        entry = INPUTS.get(str(data.get("what")))
        await done_asking(state)  # a refusal rolls this back: the question stays open
        if entry is None:
            await message.answer(i18n("staff.common.stale_input"))
            return
        handler, roles = entry
        env = await make_env(ctx, actor, i18n, state, bot, *roles, reset=False)
        await handler(env, message, data)

    router.message.register(dispatch, StaffInput.text, F.text, ~F.text.startswith("/"))
    router.message.register(dispatch, StaffInput.upload, F.document)

    @router.message(StaffInput.text, ~F.text.startswith("/"))
    async def not_text(message: Message, i18n: Translator) -> None:
        await message.answer(i18n("staff.common.type_text"))

    @router.message(StaffInput.upload, ~F.text.startswith("/"))
    async def not_file(message: Message, i18n: Translator) -> None:
        await message.answer(i18n("staff.common.send_file"))

    return router
