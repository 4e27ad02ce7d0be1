"""Everything the emulated Telegram remembers: chats, files, commands, callback queries."""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.emulator.chats import ChatMessage, ChatState, FileStore
from bot.emulator.commands import CommandRegistry
from bot.emulator.updates import UpdateQueue

if TYPE_CHECKING:
    from bot.emulator.webhook import Delivery, WebhookDelivery

log = logging.getLogger(__name__)

# Called with ("sent" | "edited" | "deleted", message) whenever the bot changes a chat.
BotActivityListener = Callable[[str, ChatMessage], None]


class ApiError(Exception):
    """An error answer of the Bot API."""

    def __init__(self, status: int, description: str, *, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after

    def to_response(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


@dataclass(eq=False)
class CallbackRecord:
    """A callback query a user made and what the bot answered."""

    id: str
    update_id: int
    user_id: int
    chat_id: int | None
    message_id: int | None
    data: str | None
    created_at: float = field(default_factory=time.monotonic)
    answered_at: float | None = None
    answer: dict[str, Any] | None = None  # the answerCallbackQuery params

    @property
    def answered(self) -> bool:
        return self.answered_at is not None

    @property
    def text(self) -> str | None:
        return (self.answer or {}).get("text")

    @property
    def show_alert(self) -> bool:
        return bool((self.answer or {}).get("show_alert"))


class EmulatorState:
    def __init__(self, bot_user: dict[str, Any]) -> None:
        self.bot_user = bot_user
        self.chats: dict[int, ChatState] = {}
        self.known_users: dict[int, dict[str, Any]] = {}
        self.files = FileStore()
        self.commands = CommandRegistry()
        self.updates = UpdateQueue()
        self.webhook: WebhookDelivery | None = None
        self.webhook_log: list[Delivery] = []  # every webhook POST and its answer
        self.callbacks: dict[str, CallbackRecord] = {}
        self.default_menu_button: dict[str, Any] | None = None
        self.profile: dict[tuple[str, str], str] = {}  # (kind, language) -> text
        self.listeners: list[BotActivityListener] = []
        self._seq = itertools.count(1)
        self.last_seq = 0

    # --- chats -------------------------------------------------------------

    def open_chat(self, user: dict[str, Any]) -> ChatState:
        """The chat with `user`, created when the user first writes to the bot."""
        chat = self.chats.get(user["id"])
        if chat is None:
            chat = self.chats[user["id"]] = ChatState(chat_id=user["id"], user=dict(user))
        else:
            chat.user = dict(user)
        return chat

    def open_group(self, chat: dict[str, Any]) -> ChatState:
        """A group, supergroup or channel (negative id), created when it first speaks."""
        state = self.chats.get(chat["id"])
        if state is None:
            state = self.chats[chat["id"]] = ChatState(
                chat_id=chat["id"], user={}, kind=chat["type"], title=chat.get("title", "")
            )
        return state

    def require_chat(self, chat_id: int | str) -> ChatState:
        chat = self.chats.get(chat_id) if isinstance(chat_id, int) else None
        if chat is not None:
            return chat
        if isinstance(chat_id, int) and chat_id in self.known_users:
            raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        raise bad_request("chat not found")

    def require_message(self, chat: ChatState, message_id: int, action: str) -> ChatMessage:
        message = chat.find(message_id)
        if message is None or message.deleted:
            raise bad_request(f"message to {action} not found")
        return message

    # --- messages ----------------------------------------------------------

    def next_seq(self) -> int:
        self.last_seq = next(self._seq)
        return self.last_seq

    def add_bot_message(self, chat: ChatState, **fields: Any) -> ChatMessage:
        message = ChatMessage(
            message_id=chat.allocate_message_id(),
            chat_id=chat.chat_id,
            from_bot=True,
            seq=self.next_seq(),
            sent_at=time.time(),
            chat=chat.api,
            sender=self.bot_user,
            **fields,
        )
        chat.messages.append(message)
        markup = fields.get("reply_markup") or {}
        if "keyboard" in markup:
            chat.reply_keyboard = markup
        elif markup.get("remove_keyboard"):
            chat.reply_keyboard = None
        self.notify("sent", message)
        return message

    def notify(self, kind: str, message: ChatMessage) -> None:
        for listener in list(self.listeners):
            try:
                listener(kind, message)
            except Exception:
                # A broken listener (e.g. the sandbox display) must not fail the bot's call.
                log.exception("bot activity listener failed")

    def add_user_message(self, chat: ChatState, payload: dict[str, Any]) -> ChatMessage:
        """Store an incoming message; `payload` gets message_id and date if it lacks them."""
        if "message_id" in payload:
            chat.reserve_message_id(payload["message_id"])
        else:
            payload["message_id"] = chat.allocate_message_id()
        sent_at = time.time()
        payload.setdefault("date", int(sent_at))
        payload.setdefault("chat", chat.api)
        document = payload.get("document")
        photo_sizes = payload.get("photo")
        has_media = document is not None or photo_sizes is not None
        text = payload.get("caption") if has_media else payload.get("text")
        message = ChatMessage(
            message_id=payload["message_id"],
            chat_id=chat.chat_id,
            from_bot=False,
            seq=self.next_seq(),
            sent_at=sent_at,
            chat=payload["chat"],
            sender=payload.get("from", chat.user),
            html=text,
            text=text,
            entities=payload.get("caption_entities" if has_media else "entities", []),
            document=self.files.get(document["file_id"]) if document else None,
            photo=self.files.get(photo_sizes[-1]["file_id"]) if photo_sizes else None,
            contact=payload.get("contact"),
            reply_to_message_id=(payload.get("reply_to_message") or {}).get("message_id"),
            payload=payload,
        )
        chat.messages.append(message)
        return message
