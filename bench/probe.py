"""A diagnostic router for load and failure tests, never part of the bot's routers.

`/ping N` only replies; `/note N` writes a row (an audit entry), appends N to the user's dialog
data and replies; `/pick` shows a button whose press writes a row, answers with a toast and edits
the message; `/boom X` fails with X in the exception text (errors must be apologised for
and logged without personal data). It runs through the same middlewares, session and FSM
storage as every feature."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from workflow.audit import audit
from workflow.context import Ctx


class Probe(StatesGroup):
    noting = State()


def build_probe_router() -> Router:
    router = Router(name="probe")

    @router.message(Command("ping"))
    async def ping(message: Message, command: CommandObject) -> None:
        await message.answer(f"pong {command.args or ''}".strip())

    @router.message(Command("note"))
    async def note(message: Message, command: CommandObject, ctx: Ctx, state: FSMContext) -> None:
        n = int(command.args or 0)
        audit(ctx, None, "probe", n, "note", detail_user=message.from_user.id)
        data = await state.get_data()
        await state.set_data({"notes": [*data.get("notes", []), n]})
        await state.set_state(Probe.noting)
        await ctx.session.commit()
        await message.answer(f"noted {n}")

    @router.message(Command("pick"))
    async def pick(message: Message) -> None:
        button = InlineKeyboardButton(text="pick", callback_data="probe:pick")
        markup = InlineKeyboardMarkup(inline_keyboard=[[button]])
        await message.answer("choose", reply_markup=markup)

    @router.callback_query(F.data == "probe:pick")
    async def picked(query: CallbackQuery, ctx: Ctx) -> None:
        audit(ctx, None, "probe", 0, "pick", detail_user=query.from_user.id)
        await query.answer("picked")
        if isinstance(query.message, Message):
            await query.message.edit_text("chosen")

    @router.message(Command("boom"))
    async def boom(message: Message, command: CommandObject) -> None:
        raise RuntimeError(f"probe failure with {command.args}")

    return router
