"""Whether an edit of the pressed message would change nothing (an option already chosen).

Telegram refuses such an edit with "message is not modified" and the user is left without an
answer; the update unit (bot/unit.py) asks here before queueing an edit, and answers the press
with a toast instead. The message is compared as the press carried it: its text (the edit's
HTML read as the text a client shows) and its inline keyboard.
"""

from __future__ import annotations

import html
from html.parser import HTMLParser
from typing import Any

from aiogram import methods as tg_methods
from aiogram.methods import TelegramMethod
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def shown_text(text: str, parse_mode: Any) -> str:
    """What a client shows for `text` sent with `parse_mode`: HTML (the bot's default, also
    when the call leaves it to the default) is read as text; None is plain text already."""
    if parse_mode is None or (isinstance(parse_mode, str) and parse_mode.lower() != "html"):
        return text
    parser = _Text()
    parser.feed(text)
    parser.close()
    return html.unescape("".join(parser.parts))


def _keyboard(markup: Any) -> list[Any]:
    if not isinstance(markup, InlineKeyboardMarkup):
        return []
    return [
        [button.model_dump(exclude_none=True, exclude_defaults=True) for button in row]
        for row in markup.inline_keyboard
    ]


def _targets(method: Any, message: Message) -> bool:
    if getattr(method, "inline_message_id", None):
        return False
    return method.chat_id == message.chat.id and method.message_id == message.message_id


def edits_nothing(method: TelegramMethod[Any], press: CallbackQuery) -> bool:
    message = press.message
    if not isinstance(message, Message) or not isinstance(
        method, tg_methods.EditMessageText | tg_methods.EditMessageReplyMarkup
    ):
        return False
    if not _targets(method, message):
        return False
    if _keyboard(method.reply_markup) != _keyboard(message.reply_markup):
        return False
    if isinstance(method, tg_methods.EditMessageReplyMarkup):
        return True
    if message.text is None:
        return False
    return shown_text(method.text, method.parse_mode).strip() == message.text.strip()
