"""What the staff consoles share: the role guard, the reply helper (edit in place for a button,
a new message for a command), dialog states for typed values, and small text helpers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from typing import Any

from aiogram import Bot, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.callback_data import Id, Word, one_of
from bot.handler_env import UpdateParts, router_with_env
from bot.i18n import Translator
from bot.staff import need
from workflow.actor import Actor
from workflow.context import Ctx
from workflow.enums import Role
from workflow.errors import DomainError
from workflow.history import ENTITIES
from workflow.text import record_id

Event = Message | CallbackQuery
MAX_TEXT = 3900  # a message is at most 4096 characters


class StaffInput(StatesGroup):
    """Waiting for a typed value or a file; what for is in the data under `ask`."""

    text = State()
    upload = State()


class MenuCb(CallbackData, prefix="stm"):
    section: Word


class HistCb(CallbackData, prefix="sth"):
    kind: one_of(*ENTITIES)
    id: Id


class Env(UpdateParts):
    """The parts of an update a staff screen needs."""

    def t(self, key: str, /, **params: Any) -> str:
        return self.i18n(f"staff.{key}", **params)

    def require(self, *roles: Role) -> Actor:
        """Narrow the screen to `roles` (the middleware only checked for a staff role)."""
        return need(self.actor, *roles)

    def when(self, value: datetime | None) -> str:
        return self.i18n.datetime(value) if value else "—"


async def make_env(
    ctx: Ctx,
    actor: Actor | None,
    i18n: Translator,
    state: FSMContext,
    bot: Bot,
    *roles: Role,
    reset: bool = True,
) -> Env:
    """Check the role, and forget a question left unanswered: pressing another button or typing
    another command means the user moved on."""
    staff = need(actor, *roles)
    if reset and await state.get_state() in (StaffInput.text.state, StaffInput.upload.state):
        await done_asking(state)
    return Env(ctx, staff, i18n, state, bot)


async def _build(data: dict[str, Any]) -> Env:
    """The actor must be staff (any role; a handler narrows with `env.require`), and a
    question left unanswered is forgotten."""
    return await make_env(data["ctx"], data.get("actor"), data["i18n"], data["state"], data["bot"])


def staff_router(name: str) -> Router:
    """A staff feature's router, whose handlers can take `env: Env`."""
    return router_with_env(name, _build)


InputHandler = Callable[[Env, Message, dict[str, Any]], Awaitable[None]]
INPUTS: dict[str, tuple[InputHandler, tuple[Role, ...]]] = {}


def on_input(what: str, *roles: Role) -> Callable[[InputHandler], InputHandler]:
    """Register the handler of a typed answer (or an uploaded file) to `ask(..., what)`."""

    def decorate(fn: InputHandler) -> InputHandler:
        INPUTS[what] = (fn, roles)
        return fn

    return decorate


async def reply(
    event: Event,
    text: str,
    markup: InlineKeyboardMarkup | None = None,
    *,
    new: bool = False,
    alert: str | None = None,
) -> None:
    """Show a screen: a button edits its own message (unless `new`), a command answers."""
    if len(text) > MAX_TEXT:
        text = text[:MAX_TEXT].rsplit("\n", 1)[0] + "\n…"
    if isinstance(event, CallbackQuery):
        await event.answer(alert, show_alert=bool(alert))
        message = event.message
        if not new and isinstance(message, Message) and message.text is not None:
            try:
                await message.edit_text(text, reply_markup=markup)
            except TelegramBadRequest as exc:
                if "not modified" not in exc.message:
                    raise
            return
        if isinstance(message, Message):
            await message.answer(text, reply_markup=markup)
        return
    await event.answer(text, reply_markup=markup)


def chat_of(event: Event) -> int:
    if isinstance(event, CallbackQuery):
        return event.message.chat.id if event.message else event.from_user.id
    return event.chat.id


async def ask(
    env: Env,
    event: Event,
    prompt: str,
    what: str,
    back: CallbackData | str | None = None,
    *,
    upload: bool = False,
    **data: Any,
) -> None:
    """Ask for a typed value (or a file); the answer comes to the staff input handler."""
    await env.state.set_state(StaffInput.upload if upload else StaffInput.text)
    await env.state.update_data(staff_ask={"what": what, **data})
    kb = InlineKeyboardBuilder()
    row = nav_buttons(env.i18n, back)
    kb.row(*row)
    await reply(event, prompt, kb.as_markup(), new=isinstance(event, Message))


async def asked(state: FSMContext) -> dict[str, Any]:
    return dict((await state.get_data()).get("staff_ask") or {})


async def done_asking(state: FSMContext) -> None:
    await state.set_state(None)
    await state.update_data(staff_ask=None)


def nav_buttons(
    i18n: Translator, back: CallbackData | str | None = None
) -> list[InlineKeyboardButton]:
    from bot.keyboards import nav_row

    return nav_row(i18n, back)


def button(text: str, data: CallbackData | str) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        text=text, callback_data=data.pack() if isinstance(data, CallbackData) else data
    )


def menu_back(i18n: Translator) -> list[InlineKeyboardButton]:
    return [
        button(i18n("staff.menu.back_to_menu"), MenuCb(section="home")),
        button(i18n("common.cancel"), "cancel"),
    ]


def int_arg(text: str | None, *, code: str = "staff.usage", **params: Any) -> int:
    number = record_id(text)
    if number is None:
        raise DomainError(code, **params)
    return number


def args_of(text: str | None) -> list[str]:
    return (text or "").split()


def lines(items: Iterable[str]) -> str:
    return "\n".join(items)


def page_line(i18n: Translator, total: int, page: int, pages: int) -> str:
    return i18n("staff.common.total", total=total, page=page + 1, pages=pages)
