"""Private chats only: every dialog asks for personal data (ID number, phone, password) and
every screen shows some, so nothing of the bot works in a group, supergroup or channel.

One outer middleware on updates, inside the update's unit, stops every update from a chat that
is not private before any router sees it: what the session middleware did for it (a first
contact's row) is undone, and a message addressed to the bot (a command, a reply to the bot, a
mention) or a press gets one line pointing to the private chat with a deep link; anything else
said in the group is left alone. The update is still marked handled, so a redelivery is quiet.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot, Router
from aiogram.enums import ChatType
from aiogram.types import (
    CallbackQuery,
    Chat,
    Message,
    ReplyParameters,
    TelegramObject,
    Update,
)

from bot import username
from bot.i18n import DEFAULT_LOCALE, Translator, normalize_locale
from bot.unit import current_unit

# `/start private`: where the deep link of the notice lands (handlers/common.py greets).
PRIVATE_START = "private"

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


def chat_of(update: Update) -> Chat | None:
    for message in (
        update.message,
        update.edited_message,
        update.channel_post,
        update.edited_channel_post,
    ):
        if message is not None:
            return message.chat
    if update.callback_query is not None and update.callback_query.message is not None:
        return update.callback_query.message.chat
    for member in (update.my_chat_member, update.chat_member, update.chat_join_request):
        if member is not None:
            return member.chat
    return None


def in_private_chat(update: Update) -> bool:
    """True for a private chat, and for updates without a chat."""
    chat = chat_of(update)
    return chat is None or chat.type == ChatType.PRIVATE


def _addressed(message: Message, me: str | None, bot_id: int) -> bool:
    """A command (to this bot or to every bot), a reply to the bot, or a mention of it."""
    text = message.text or message.caption or ""
    if text.startswith("/"):
        command = text.split(maxsplit=1)[0]
        target = command.partition("@")[2]
        return not target or (me is not None and target.lower() == me.lower())
    replied = message.reply_to_message
    if replied is not None and replied.from_user is not None and replied.from_user.id == bot_id:
        return True
    return me is not None and f"@{me.lower()}" in text.lower()


async def _bot_username(bot: Bot) -> str | None:
    unit = current_unit()
    if unit is not None:
        known = await username.cached(unit.session)
        if known is not None:
            return known.username
    me = await bot.me()
    return me.username


def private_link(name: str) -> str:
    return f"https://t.me/{name}?start={PRIVATE_START}"


class PrivateChatsOnly(BaseMiddleware):
    """Registered on `dp.update` right inside DbSessionMiddleware (bot/app.py)."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if not isinstance(event, Update):
            return await handler(event, data)
        chat = chat_of(event)
        if chat is None or chat.type == ChatType.PRIVATE:
            return await handler(event, data)
        unit = current_unit()
        if unit is not None:
            await unit.undo()  # no trace of this user in the database
        bot: Bot = data["bot"]
        user = data.get("event_from_user")
        i18n: Translator = Translator(
            normalize_locale(user.language_code if user else None) or DEFAULT_LOCALE
        )
        me = await _bot_username(bot)
        if event.callback_query is not None:
            await _answer_press(event.callback_query, i18n, me)
            return None
        message = event.message or event.channel_post
        if message is not None and _addressed(message, me, bot.id):
            text = (
                i18n("common.private_only", url=private_link(me))
                if me
                else i18n("common.private_only_plain")
            )
            await bot.send_message(
                chat.id,
                text,
                reply_parameters=ReplyParameters(
                    message_id=message.message_id, allow_sending_without_reply=True
                ),
            )
        return None


async def _answer_press(query: CallbackQuery, i18n: Translator, me: str | None) -> None:
    if me:
        await query.answer(i18n("common.private_only_toast", bot=me), url=private_link(me))
    else:
        await query.answer(i18n("common.private_only_plain"), show_alert=True)


def build_router() -> Router:
    """Channel posts are asked for only when something listens to them; the middleware answers
    before this handler could run."""
    router = Router(name="chat-scope")

    @router.channel_post()
    async def channel_post(message: Message) -> None:  # pragma: no cover - never reached
        return None

    return router
