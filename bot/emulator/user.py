"""ScriptedUser: a person in a private chat with the bot, driven by a test.

Every action queues one update and returns once the bot has finished processing it
(see BotApiEmulator.wait_processed), so a test can read the chat right after.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.emulator.chats import ChatMessage, ChatState
from bot.emulator.html import utf16_len
from bot.emulator.models import Command
from bot.emulator.state import CallbackRecord

if TYPE_CHECKING:
    from bot.emulator.server import BotApiEmulator

# Offset for user ids of contacts shared with own=False.
OTHER_CONTACT_ID_OFFSET = 1_000_000_000


class ScriptedUser:
    def __init__(
        self,
        emulator: BotApiEmulator,
        user_id: int,
        *,
        first_name: str = "Test",
        language_code: str | None = "zh-hans",
        username: str | None = None,
        last_name: str | None = None,
        phone_number: str | None = None,
    ) -> None:
        self.emulator = emulator
        self.user_id = user_id
        self.first_name = first_name
        self.last_name = last_name
        self.username = username
        self.language_code = language_code
        self.phone_number = phone_number  # shared when a request_contact button is pressed
        self.timeout: float | None = None  # None: the emulator's processing_timeout

    @property
    def chat_id(self) -> int:
        return self.user_id

    @property
    def api(self) -> dict[str, Any]:
        """This user as a Bot API User object."""
        user: dict[str, Any] = {"id": self.user_id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            user["last_name"] = self.last_name
        if self.username:
            user["username"] = self.username
        if self.language_code:
            user["language_code"] = self.language_code
        return user

    # --- actions ------------------------------------------------------------

    async def send(self, text: str, *, reply_to: ChatMessage | None = None) -> ChatMessage:
        """Send a text message; a leading /command gets a bot_command entity."""
        body: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            body["entities"] = [{"type": "bot_command", "offset": 0, "length": utf16_len(command)}]
        if reply_to is not None:
            body["reply_to_message"] = reply_to.to_api()
        return await self._send_message(body)

    async def command(self, name: str, args: str | None = None) -> ChatMessage:
        name = name.lstrip("/")
        return await self.send(f"/{name} {args}" if args else f"/{name}")

    async def press(
        self, label: str, *, message: ChatMessage | None = None
    ) -> CallbackRecord | ChatMessage:
        """Press a button by its visible label.

        Inline buttons are searched on `message`, or on the newest bot message that has
        one with this label; the CallbackRecord (with the bot's answer) is returned. A
        label on the current reply keyboard is sent as text (or shares the contact for a
        request_contact button) and the sent ChatMessage is returned.
        """
        if message is not None and message.deleted:
            raise AssertionError(f"message {message.message_id} was deleted; nothing to press")
        candidates = [message] if message is not None else self._bot_messages_newest_first()
        for candidate in candidates:
            button = candidate.button(label)
            if button is not None:
                return await self._press_inline(candidate, button)
        if message is None:
            button = self._reply_keyboard_button(label)
            if button is not None:
                if button.get("request_contact"):
                    if not self.phone_number:
                        raise AssertionError(
                            f"{label!r} requests the contact; give the user a phone_number "
                            "or call share_contact()"
                        )
                    return await self.share_contact(self.phone_number)
                return await self.send(label)
        raise AssertionError(f"user {self.user_id} sees no button {label!r}; {self._visible()}")

    async def share_contact(
        self,
        phone_number: str,
        *,
        own: bool = True,
        first_name: str | None = None,
        user_id: int | None = None,
    ) -> ChatMessage:
        """Share a contact: own=True is the user's own, own=False someone else's."""
        contact: dict[str, Any] = {
            "phone_number": phone_number,
            "first_name": first_name or (self.first_name if own else "Contact"),
        }
        if own:
            contact["user_id"] = self.user_id
            if self.last_name:
                contact["last_name"] = self.last_name
        else:
            contact["user_id"] = user_id or self.user_id + OTHER_CONTACT_ID_OFFSET
        return await self._send_message({"contact": contact})

    async def upload(
        self,
        data: bytes | Path,
        filename: str,
        mime_type: str = "application/pdf",
        caption: str | None = None,
    ) -> ChatMessage:
        """Send a document; the bot can fetch its bytes with getFile and a download."""
        content = await _read(data)
        stored = self.emulator.state.files.add(
            content, kind="documents", file_name=filename, mime_type=mime_type
        )
        body: dict[str, Any] = {"document": stored.document_api()}
        if caption is not None:
            body["caption"] = caption
        return await self._send_message(body)

    async def send_photo(
        self, data: bytes | Path, caption: str | None = None, *, width: int = 0, height: int = 0
    ) -> ChatMessage:
        content = await _read(data)
        stored = self.emulator.state.files.add(content, kind="photos", width=width, height=height)
        body: dict[str, Any] = {"photo": stored.photo_api()}
        if caption is not None:
            body["caption"] = caption
        return await self._send_message(body)

    def in_group(
        self, chat_id: int = -1001234567890, *, kind: str = "supergroup", title: str = "住培交流群"
    ) -> GroupMember:
        """This user as a member of a group (or supergroup, or channel) with the bot."""
        return GroupMember(self, {"id": chat_id, "type": kind, "title": title})

    # --- reading ------------------------------------------------------------

    @property
    def messages(self) -> list[ChatMessage]:
        """The chat's whole history, oldest first, deleted messages included."""
        return self.emulator.messages(self.chat_id)

    def bot_messages(self, *, include_deleted: bool = False) -> list[ChatMessage]:
        return [m for m in self.messages if m.from_bot and (include_deleted or not m.deleted)]

    def last_bot_message(self) -> ChatMessage:
        messages = self.bot_messages()
        if not messages:
            raise AssertionError(f"the bot has sent no (undeleted) message to {self.user_id}")
        return messages[-1]

    def mark(self) -> int:
        """A point in time for bot_messages_since()."""
        return self.emulator.state.last_seq

    def bot_messages_since(
        self, marker: int, *, include_deleted: bool = False
    ) -> list[ChatMessage]:
        return [m for m in self.bot_messages(include_deleted=include_deleted) if m.seq > marker]

    @property
    def reply_keyboard(self) -> list[list[str]] | None:
        """Labels of the reply keyboard shown now, if any."""
        markup = self._chat.reply_keyboard if self._chat else None
        if markup is None:
            return None
        return [[button["text"] for button in row] for row in markup["keyboard"]]

    def visible_commands(self) -> list[Command]:
        return self.emulator.visible_commands(self.chat_id, self.language_code)

    # --- internals ----------------------------------------------------------

    @property
    def _chat(self) -> ChatState | None:
        return self.emulator.chat(self.chat_id)

    async def _send_message(self, body: dict[str, Any]) -> ChatMessage:
        record, message = self.emulator.submit_update({"message": {"from": self.api, **body}})
        assert message is not None
        await self.emulator.wait_processed(record.update_id, self.timeout)
        return message

    async def _press_inline(self, message: ChatMessage, button: dict[str, Any]) -> CallbackRecord:
        if "callback_data" not in button:
            kinds = sorted(set(button) - {"text"})
            raise AssertionError(
                f"button {button['text']!r} has no callback_data ({', '.join(kinds)}); "
                "pressing it sends nothing to the bot"
            )
        query_id = self.emulator.next_callback_id()
        query = {
            "id": query_id,
            "from": self.api,
            "message": message.to_api(),
            "chat_instance": f"ci{self.chat_id}",
            "data": button["callback_data"],
        }
        record, _ = self.emulator.submit_update({"callback_query": query})
        await self.emulator.wait_processed(record.update_id, self.timeout)
        return self.emulator.state.callbacks[query_id]

    def _bot_messages_newest_first(self) -> list[ChatMessage]:
        return list(reversed(self.bot_messages()))

    def _reply_keyboard_button(self, label: str) -> dict[str, Any] | None:
        markup = self._chat.reply_keyboard if self._chat else None
        for row in (markup or {}).get("keyboard", []):
            for button in row:
                if button["text"] == label:
                    return button
        return None

    def _visible(self) -> str:
        inline = [
            f"message {m.message_id}: {m.buttons}"
            for m in self._bot_messages_newest_first()
            if m.buttons
        ]
        return (
            f"inline keyboards (newest first): {inline or 'none'}; "
            f"reply keyboard: {self.reply_keyboard or 'none'}"
        )

    def __repr__(self) -> str:
        return f"<ScriptedUser {self.user_id} {self.first_name!r} lang={self.language_code}>"


async def _read(data: bytes | Path) -> bytes:
    return await asyncio.to_thread(data.read_bytes) if isinstance(data, Path) else data


class GroupMember(ScriptedUser):
    """The same person writing in a group, supergroup or channel the bot is a member of
    (`ScriptedUser.in_group`): messages and presses carry that chat, and `messages` is its
    history."""

    def __init__(self, user: ScriptedUser, chat: dict[str, Any]) -> None:
        super().__init__(
            user.emulator,
            user.user_id,
            first_name=user.first_name,
            language_code=user.language_code,
            username=user.username,
            last_name=user.last_name,
            phone_number=user.phone_number,
        )
        self.group = chat

    @property
    def chat_id(self) -> int:
        return int(self.group["id"])

    async def _send_message(self, body: dict[str, Any]) -> ChatMessage:
        return await super()._send_message({**body, "chat": dict(self.group)})

    async def channel_post(self, text: str) -> ChatMessage:
        """A post in the channel (no sender: channels post as themselves)."""
        body: dict[str, Any] = {"chat": dict(self.group), "text": text}
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            body["entities"] = [{"type": "bot_command", "offset": 0, "length": utf16_len(command)}]
        record, message = self.emulator.submit_update({"channel_post": body})
        assert message is not None
        await self.emulator.wait_processed(record.update_id, self.timeout)
        return message

    def __repr__(self) -> str:
        return f"<GroupMember {self.user_id} in {self.group['type']} {self.chat_id}>"
