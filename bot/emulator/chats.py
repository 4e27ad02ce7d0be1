"""Chats, their message history and stored files, as the emulator keeps them."""

from __future__ import annotations

import copy
import mimetypes
import secrets
import time
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any


@dataclass(eq=False)
class StoredFile:
    """A file the bot or a user sent; `data` holds its bytes."""

    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes
    file_name: str | None = None
    mime_type: str | None = None
    width: int | None = None
    height: int | None = None

    @property
    def size(self) -> int:
        return len(self.data)

    def document_api(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.size,
        }
        if self.file_name:
            result["file_name"] = self.file_name
        if self.mime_type:
            result["mime_type"] = self.mime_type
        return result

    def photo_api(self) -> list[dict[str, Any]]:
        return [
            {
                "file_id": self.file_id,
                "file_unique_id": self.file_unique_id,
                "width": self.width or 0,
                "height": self.height or 0,
                "file_size": self.size,
            }
        ]

    def file_api(self) -> dict[str, Any]:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.size,
            "file_path": self.file_path,
        }


class FileStore:
    def __init__(self) -> None:
        self._by_id: dict[str, StoredFile] = {}
        self._by_path: dict[str, StoredFile] = {}
        self._counter = 0

    def add(
        self,
        data: bytes,
        *,
        kind: str = "documents",
        file_name: str | None = None,
        mime_type: str | None = None,
        width: int | None = None,
        height: int | None = None,
    ) -> StoredFile:
        self._counter += 1
        n = self._counter
        suffix = PurePosixPath(file_name).suffix if file_name else ""
        if not suffix and mime_type:
            suffix = mimetypes.guess_extension(mime_type) or ""
        stored = StoredFile(
            file_id=f"EMU-{kind[:3]}-{n:06d}-{secrets.token_hex(6)}",
            file_unique_id=f"EMUU{n:06d}",
            file_path=f"{kind}/file_{n}{suffix}",
            data=bytes(data),
            file_name=file_name,
            mime_type=mime_type,
            width=width,
            height=height,
        )
        self._by_id[stored.file_id] = stored
        self._by_path[stored.file_path] = stored
        return stored

    def get(self, file_id: str) -> StoredFile | None:
        return self._by_id.get(file_id)

    def by_path(self, file_path: str) -> StoredFile | None:
        return self._by_path.get(file_path)


@dataclass(eq=False)
class ChatMessage:
    """One message of a chat's history, from the user or from the bot.

    `text` is what the user sees (the caption for documents and photos); `html` is the
    text or caption exactly as it was sent (with tags when parse_mode was HTML).
    Edits are applied in place (`edited`, `previous_versions`); deletions only set
    `deleted`, so a test can still see what was there.
    """

    message_id: int
    chat_id: int
    from_bot: bool
    seq: int  # global creation order, compared against ScriptedUser.mark()
    sent_at: float  # time.time()
    chat: dict[str, Any]
    sender: dict[str, Any]
    html: str | None = None
    text: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    parse_mode: str | None = None
    reply_markup: dict[str, Any] | None = None
    document: StoredFile | None = None
    photo: StoredFile | None = None
    contact: dict[str, Any] | None = None
    reply_to_message_id: int | None = None
    payload: dict[str, Any] | None = None  # an incoming message exactly as delivered
    edited: bool = False
    edited_at: float | None = None
    previous_versions: list[str | None] = field(default_factory=list)
    deleted: bool = False
    deleted_at: float | None = None

    @property
    def has_media(self) -> bool:
        return self.document is not None or self.photo is not None

    @property
    def inline_keyboard(self) -> list[list[dict[str, Any]]]:
        if not self.reply_markup:
            return []
        return self.reply_markup.get("inline_keyboard", [])

    @property
    def buttons(self) -> list[list[str]]:
        """Labels of the inline keyboard, row by row."""
        return [[button["text"] for button in row] for row in self.inline_keyboard]

    def button(self, label: str) -> dict[str, Any] | None:
        for row in self.inline_keyboard:
            for button in row:
                if button["text"] == label:
                    return button
        return None

    def callback_data(self, label: str) -> str:
        button = self.button(label)
        if button is None or "callback_data" not in button:
            raise AssertionError(
                f"message {self.message_id} has no callback button {label!r}; "
                f"buttons: {self.buttons}"
            )
        return button["callback_data"]

    @property
    def reply_keyboard(self) -> list[list[str]] | None:
        """Labels of the reply keyboard this message set, if it set one."""
        if not self.reply_markup or "keyboard" not in self.reply_markup:
            return None
        return [[button["text"] for button in row] for row in self.reply_markup["keyboard"]]

    def to_api(self) -> dict[str, Any]:
        """The Message object as Telegram would deliver it now."""
        if self.payload is not None:
            return copy.deepcopy(self.payload)
        result: dict[str, Any] = {
            "message_id": self.message_id,
            "date": int(self.sent_at),
            "chat": dict(self.chat),
            "from": dict(self.sender),
        }
        if self.has_media:
            text_key, entities_key = "caption", "caption_entities"
        else:
            text_key, entities_key = "text", "entities"
        if self.text is not None and (self.text or not self.has_media):
            result[text_key] = self.text
            if self.entities:
                result[entities_key] = copy.deepcopy(self.entities)
        if self.document is not None:
            result["document"] = self.document.document_api()
        if self.photo is not None:
            result["photo"] = self.photo.photo_api()
        if self.contact is not None:
            result["contact"] = dict(self.contact)
        if self.edited_at is not None:
            result["edit_date"] = int(self.edited_at)
        # Only inline keyboards are part of a Message; reply keyboards live in the client.
        if self.inline_keyboard:
            result["reply_markup"] = {"inline_keyboard": copy.deepcopy(self.inline_keyboard)}
        return result

    def mark_edited(self) -> None:
        self.previous_versions.append(self.html)
        self.edited = True
        self.edited_at = time.time()

    def __repr__(self) -> str:
        who = "bot" if self.from_bot else "user"
        flags = "".join(
            flag for flag, on in ((" edited", self.edited), (" deleted", self.deleted)) if on
        )
        return f"<ChatMessage #{self.message_id} {who}{flags}: {self.text!r} {self.buttons}>"


@dataclass(eq=False)
class ChatState:
    """A private chat between the bot and one user (chat id == user id), or a group,
    supergroup or channel the bot is a member of (`kind`, `title`; `user` is empty)."""

    chat_id: int
    user: dict[str, Any]  # the User object of the chat partner
    kind: str = "private"
    title: str = ""
    messages: list[ChatMessage] = field(default_factory=list)
    reply_keyboard: dict[str, Any] | None = None  # the ReplyKeyboardMarkup shown now
    blocked: bool = False
    menu_button: dict[str, Any] | None = None
    chat_actions: list[tuple[float, str]] = field(default_factory=list)
    last_activity: float = 0.0  # time.monotonic() of the last call or update touching it
    _next_message_id: int = 1

    @property
    def api(self) -> dict[str, Any]:
        if self.kind != "private":
            return {"id": self.chat_id, "type": self.kind, "title": self.title}
        chat: dict[str, Any] = {
            "id": self.chat_id,
            "type": "private",
            "first_name": self.user.get("first_name", ""),
        }
        for key in ("last_name", "username"):
            if self.user.get(key):
                chat[key] = self.user[key]
        return chat

    def allocate_message_id(self) -> int:
        message_id = self._next_message_id
        self._next_message_id += 1
        return message_id

    def reserve_message_id(self, message_id: int) -> None:
        """Keep ids unique when a raw update brings its own message_id."""
        self._next_message_id = max(self._next_message_id, message_id + 1)

    def find(self, message_id: int) -> ChatMessage | None:
        for message in reversed(self.messages):
            if message.message_id == message_id:
                return message
        return None

    def touch(self) -> None:
        self.last_activity = time.monotonic()
