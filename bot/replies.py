"""Small helpers to answer whatever kind of update came in."""

from __future__ import annotations

from aiogram import Bot
from aiogram.types import CallbackQuery, Message, Update

ALERT_MAX = 200  # answerCallbackQuery text limit


def chat_id_of(update: Update) -> int | None:
    if update.message:
        return update.message.chat.id
    if update.callback_query:
        cq = update.callback_query
        return cq.message.chat.id if cq.message else cq.from_user.id
    return None


async def tell(bot: Bot, update: Update, text: str) -> None:
    """Say `text` to the user of this update: an alert for a button press when it fits, else a
    message in the chat."""
    cq: CallbackQuery | None = update.callback_query
    if cq is not None:
        if len(text) <= ALERT_MAX and "<" not in text:
            await cq.answer(text, show_alert=True)
            return
        await cq.answer()
    chat_id = chat_id_of(update)
    if chat_id is not None:
        await bot.send_message(chat_id, text)


def message_of(update: Update) -> Message | None:
    return update.message
