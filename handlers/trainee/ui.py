"""Small pieces every trainee dialog uses: who may use it, showing a screen in place, sealing
personal data kept in dialog state, and how long until a deadline."""

from __future__ import annotations

import base64
import contextlib
from typing import Any

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    TelegramObject,
)

from bot.i18n import Translator
from storage.models import Account
from workflow.context import Ctx
from workflow.enums import Role

Markup = InlineKeyboardMarkup | None


async def trainee_only(_: TelegramObject, account: Account | None = None) -> bool:
    return account is not None and account.role == Role.TRAINEE


async def guest_only(_: TelegramObject, account: Account | None = None) -> bool:
    return account is None


def not_command(message: Message) -> bool:
    """Typed answers; a /command always leaves the dialog's text prompt to its own handler."""
    return bool(message.text) and not message.text.startswith("/")  # type: ignore[union-attr]


def contact_or_text(message: Message) -> bool:
    """The answer to a phone question: a shared contact, or typed text that is no /command."""
    return message.contact is not None or not_command(message)


def button(text: str, data: Any) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        text=text, callback_data=data if isinstance(data, str) else data.pack()
    )


def markup(*rows: list[InlineKeyboardButton]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[row for row in rows if row])


async def show(event: Message | CallbackQuery, text: str, reply_markup: Markup = None) -> None:
    """A screen: in place of the pressed message for a button, a new message for a text.

    The callback query itself is answered by the caller (with or without an alert).
    """
    if isinstance(event, CallbackQuery):
        if isinstance(event.message, Message):
            await edit(event.message, text, reply_markup)
            return
        await event.bot.send_message(event.from_user.id, text, reply_markup=reply_markup)  # type: ignore[union-attr]
        return
    await event.answer(text, reply_markup=reply_markup)


async def edit(message: Message, text: str, reply_markup: Markup = None) -> None:
    """Edit a message; an unchanged one (a repeated press) is left as it is."""
    try:
        await message.edit_text(text, reply_markup=reply_markup)
    except TelegramBadRequest as exc:
        if "not modified" not in str(exc):
            raise


async def delete_quietly(message: Message) -> None:
    """Delete a message of the chat; one already gone is fine."""
    with contextlib.suppress(TelegramBadRequest):
        await message.delete()


def seal(ctx: Ctx, field: str, value: str) -> str:
    """Personal data kept in dialog state (it lives in the database): encrypted, as text."""
    return base64.b64encode(ctx.cipher.encrypt(f"fsm:{field}", value)).decode()


def unseal(ctx: Ctx, field: str, sealed: str) -> str:
    return ctx.cipher.decrypt(f"fsm:{field}", base64.b64decode(sealed))


def specialty_name(i18n: Translator, spec: Any) -> str:
    if spec is None:
        return "—"
    return spec.name_en if i18n.locale == "en" and spec.name_en else spec.name
