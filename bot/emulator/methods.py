"""The Bot API methods the emulator implements, on top of EmulatorState.

Each handler gets parameters that the validator already checked and converted, and
returns the `result` of the answer or raises ApiError.
"""

from __future__ import annotations

import io
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bot.emulator.chats import ChatMessage, ChatState, StoredFile
from bot.emulator.html import apply_parse_mode
from bot.emulator.models import UploadedFile
from bot.emulator.state import ApiError, EmulatorState, bad_request
from bot.emulator.updates import PollingConflictError

Handler = Callable[[dict[str, Any]], Awaitable[Any]]

MAX_UPLOAD_BYTES = 50 * 1024 * 1024
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)


class ApiMethods:
    def __init__(self, state: EmulatorState) -> None:
        self.state = state
        self.handlers: dict[str, Handler] = {
            "getMe": self.get_me,
            "getUpdates": self.get_updates,
            "setWebhook": self.set_webhook,
            "deleteWebhook": self.delete_webhook,
            "getWebhookInfo": self.get_webhook_info,
            "setMyCommands": self.set_my_commands,
            "getMyCommands": self.get_my_commands,
            "deleteMyCommands": self.delete_my_commands,
            "setChatMenuButton": self.set_chat_menu_button,
            "getChatMenuButton": self.get_chat_menu_button,
            "sendMessage": self.send_message,
            "editMessageText": self.edit_message_text,
            "editMessageReplyMarkup": self.edit_message_reply_markup,
            "editMessageCaption": self.edit_message_caption,
            "answerCallbackQuery": self.answer_callback_query,
            "deleteMessage": self.delete_message,
            "deleteMessages": self.delete_messages,
            "sendDocument": self.send_document,
            "sendPhoto": self.send_photo,
            "sendChatAction": self.send_chat_action,
            "getFile": self.get_file,
            "getChat": self.get_chat,
            "setMyDescription": self._profile_setter("description"),
            "getMyDescription": self._profile_getter("description"),
            "setMyShortDescription": self._profile_setter("short_description"),
            "getMyShortDescription": self._profile_getter("short_description"),
            "setMyName": self._profile_setter("name"),
            "getMyName": self._profile_getter("name"),
        }

    # --- bot and updates ---------------------------------------------------

    async def get_me(self, params: dict[str, Any]) -> Any:
        return {
            **self.state.bot_user,
            "can_join_groups": False,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def get_updates(self, params: dict[str, Any]) -> Any:
        if self.state.webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use "
                "deleteWebhook to delete the webhook first",
            )
        try:
            return await self.state.updates.fetch(
                offset=params.get("offset"),
                limit=params.get("limit"),
                poll_seconds=params.get("timeout"),
                allowed_updates=params.get("allowed_updates"),
            )
        except PollingConflictError:
            raise ApiError(
                409,
                "Conflict: terminated by other getUpdates request; make sure that only one "
                "bot instance is running",
            ) from None

    async def set_webhook(self, params: dict[str, Any]) -> Any:
        from bot.emulator.webhook import DEFAULT_MAX_CONNECTIONS, WebhookDelivery

        if self.state.webhook is not None:
            await self.state.webhook.stop()
        if params.get("allowed_updates") is not None:
            self.state.updates.set_allowed(params["allowed_updates"])
        if params.get("drop_pending_updates"):
            self.state.updates.drop_pending()
        self.state.webhook = WebhookDelivery(
            self.state.updates,
            params["url"],
            params.get("secret_token"),
            max_connections=params.get("max_connections") or DEFAULT_MAX_CONNECTIONS,
            deliveries=self.state.webhook_log,
        )
        self.state.webhook.start()
        return True

    async def delete_webhook(self, params: dict[str, Any]) -> Any:
        if self.state.webhook is not None:
            await self.state.webhook.stop()
            self.state.webhook = None
        if params.get("drop_pending_updates"):
            self.state.updates.drop_pending()
        return True

    async def get_webhook_info(self, params: dict[str, Any]) -> Any:
        if self.state.webhook is not None:
            return self.state.webhook.info()
        pending = len(self.state.updates.deliverable())
        return {"url": "", "has_custom_certificate": False, "pending_update_count": pending}

    async def get_chat(self, params: dict[str, Any]) -> Any:
        chat = self.state.require_chat(params["chat_id"])
        return {
            **chat.api,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": dict.fromkeys(
                (
                    "unlimited_gifts",
                    "limited_gifts",
                    "unique_gifts",
                    "premium_subscription",
                    "gifts_from_channels",
                ),
                False,
            ),
        }

    # --- bot profile, commands and menu --------------------------------------

    def _profile_setter(self, kind: str) -> Handler:
        async def set_text(params: dict[str, Any]) -> Any:
            key = (kind, params.get("language_code", ""))
            if params.get(kind):
                self.state.profile[key] = params[kind]
            else:
                self.state.profile.pop(key, None)
            return True

        return set_text

    def _profile_getter(self, kind: str) -> Handler:
        async def get_text(params: dict[str, Any]) -> Any:
            language = params.get("language_code", "")
            return {kind: self.state.profile.get((kind, language), "")}

        return get_text

    async def set_my_commands(self, params: dict[str, Any]) -> Any:
        self.state.commands.set(
            params.get("scope"), params.get("language_code", ""), params["commands"]
        )
        return True

    async def get_my_commands(self, params: dict[str, Any]) -> Any:
        commands = self.state.commands.get(params.get("scope"), params.get("language_code", ""))
        return [command._asdict() for command in commands]

    async def delete_my_commands(self, params: dict[str, Any]) -> Any:
        self.state.commands.delete(params.get("scope"), params.get("language_code", ""))
        return True

    async def set_chat_menu_button(self, params: dict[str, Any]) -> Any:
        button = params.get("menu_button", {"type": "default"})
        if "chat_id" in params:
            self.state.require_chat(params["chat_id"]).menu_button = button
        else:
            self.state.default_menu_button = button
        return True

    async def get_chat_menu_button(self, params: dict[str, Any]) -> Any:
        button = None
        if "chat_id" in params:
            button = self.state.require_chat(params["chat_id"]).menu_button
        return button or self.state.default_menu_button or {"type": "default"}

    # --- sending -----------------------------------------------------------

    async def send_message(self, params: dict[str, Any]) -> Any:
        chat = self.state.require_chat(params["chat_id"])
        formatted = apply_parse_mode(
            params["text"], params.get("parse_mode"), params.get("entities")
        )
        message = self.state.add_bot_message(
            chat,
            html=params["text"],
            text=formatted.text,
            entities=formatted.entities,
            parse_mode=params.get("parse_mode"),
            reply_markup=params.get("reply_markup"),
            reply_to_message_id=self._reply_target(chat, params),
        )
        return message.to_api()

    async def send_document(self, params: dict[str, Any]) -> Any:
        chat = self.state.require_chat(params["chat_id"])
        stored = self._resolve_file(params["document"], kind="documents")
        return self._send_media(chat, params, document=stored).to_api()

    async def send_photo(self, params: dict[str, Any]) -> Any:
        chat = self.state.require_chat(params["chat_id"])
        stored = self._resolve_file(params["photo"], kind="photos")
        return self._send_media(chat, params, photo=stored).to_api()

    def _send_media(self, chat: ChatState, params: dict[str, Any], **media: Any) -> ChatMessage:
        caption = params.get("caption")
        formatted = apply_parse_mode(
            caption or "", params.get("parse_mode"), params.get("caption_entities")
        )
        return self.state.add_bot_message(
            chat,
            html=caption,
            text=formatted.text if caption is not None else None,
            entities=formatted.entities,
            parse_mode=params.get("parse_mode"),
            reply_markup=params.get("reply_markup"),
            reply_to_message_id=self._reply_target(chat, params),
            **media,
        )

    def _reply_target(self, chat: ChatState, params: dict[str, Any]) -> int | None:
        reply = params.get("reply_parameters")
        if not reply or reply.get("chat_id", chat.chat_id) != chat.chat_id:
            return None
        target = chat.find(reply["message_id"])
        if target is None or target.deleted:
            if reply.get("allow_sending_without_reply"):
                return None
            raise bad_request("message to be replied not found")
        return target.message_id

    def _resolve_file(self, value: UploadedFile | str, *, kind: str) -> StoredFile:
        if isinstance(value, str):
            stored = self.state.files.get(value)
            if stored is None:
                raise bad_request("wrong file identifier/HTTP URL specified")
            return stored
        if len(value.data) > MAX_UPLOAD_BYTES:
            raise ApiError(413, "Request Entity Too Large")
        width = height = None
        if kind == "photos":
            width, height = _image_size(value.data)
        return self.state.files.add(
            value.data,
            kind=kind,
            file_name=value.filename if kind == "documents" else None,
            mime_type=value.content_type if kind == "documents" else None,
            width=width,
            height=height,
        )

    async def send_chat_action(self, params: dict[str, Any]) -> Any:
        chat = self.state.require_chat(params["chat_id"])
        chat.chat_actions.append((time.time(), params["action"]))
        return True

    # --- editing and deleting ----------------------------------------------

    async def edit_message_text(self, params: dict[str, Any]) -> Any:
        message = self._editable(params)
        if message.has_media:
            raise bad_request("there is no text in the message to edit")
        formatted = apply_parse_mode(
            params["text"], params.get("parse_mode"), params.get("entities")
        )
        markup = params.get("reply_markup")
        if (formatted.text, formatted.entities, _inline(markup)) == (
            message.text,
            message.entities,
            _inline(message.reply_markup),
        ):
            raise bad_request(NOT_MODIFIED)
        message.mark_edited()
        message.html, message.text, message.entities = (
            params["text"],
            formatted.text,
            formatted.entities,
        )
        message.parse_mode = params.get("parse_mode")
        message.reply_markup = markup
        self.state.notify("edited", message)
        return message.to_api()

    async def edit_message_caption(self, params: dict[str, Any]) -> Any:
        message = self._editable(params)
        if not message.has_media:
            raise bad_request("there is no caption in the message to edit")
        caption = params.get("caption")
        formatted = apply_parse_mode(
            caption or "", params.get("parse_mode"), params.get("caption_entities")
        )
        text = formatted.text if caption is not None else None
        markup = params.get("reply_markup")
        if (text or None, formatted.entities, _inline(markup)) == (
            message.text or None,
            message.entities,
            _inline(message.reply_markup),
        ):
            raise bad_request(NOT_MODIFIED)
        message.mark_edited()
        message.html, message.text, message.entities = caption, text, formatted.entities
        message.reply_markup = markup
        self.state.notify("edited", message)
        return message.to_api()

    async def edit_message_reply_markup(self, params: dict[str, Any]) -> Any:
        message = self._editable(params)
        markup = params.get("reply_markup")
        if _inline(markup) == _inline(message.reply_markup):
            raise bad_request(NOT_MODIFIED)
        message.mark_edited()
        message.reply_markup = markup
        self.state.notify("edited", message)
        return message.to_api()

    def _editable(self, params: dict[str, Any]) -> ChatMessage:
        if "inline_message_id" in params:
            raise bad_request("inline messages are not supported by the emulator")
        chat = self.state.require_chat(params["chat_id"])
        message = self.state.require_message(chat, params["message_id"], "edit")
        if not message.from_bot:
            raise bad_request("message can't be edited")
        return message

    async def delete_message(self, params: dict[str, Any]) -> Any:
        chat = self.state.require_chat(params["chat_id"])
        message = self.state.require_message(chat, params["message_id"], "delete")
        self._delete(message)
        return True

    async def delete_messages(self, params: dict[str, Any]) -> Any:
        chat = self.state.require_chat(params["chat_id"])
        for message_id in params["message_ids"]:
            message = chat.find(message_id)
            if message is not None and not message.deleted:
                self._delete(message)
        return True

    def _delete(self, message: ChatMessage) -> None:
        message.deleted = True
        message.deleted_at = time.time()
        self.state.notify("deleted", message)

    # --- callbacks and files -----------------------------------------------

    async def answer_callback_query(self, params: dict[str, Any]) -> Any:
        record = self.state.callbacks.get(params["callback_query_id"])
        if record is None or record.answered:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        record.answer = dict(params)
        record.answered_at = time.monotonic()
        return True

    async def get_file(self, params: dict[str, Any]) -> Any:
        stored = self.state.files.get(params["file_id"])
        if stored is None:
            raise bad_request("invalid file_id")
        if stored.size > MAX_DOWNLOAD_BYTES:
            raise bad_request("file is too big")
        return stored.file_api()


def _inline(markup: dict[str, Any] | None) -> list[list[dict[str, Any]]]:
    return (markup or {}).get("inline_keyboard", [])


def _image_size(data: bytes) -> tuple[int, int]:
    """Width and height of an uploaded photo; Telegram rejects what is not an image."""
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError:  # Pillow missing: accept the photo without dimensions
        return 0, 0
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
    except (UnidentifiedImageError, OSError):
        raise bad_request("IMAGE_PROCESS_FAILED") from None
    if width + height > 10000 or max(width, height) > 20 * min(width, height):
        raise bad_request("PHOTO_INVALID_DIMENSIONS")
    return width, height
