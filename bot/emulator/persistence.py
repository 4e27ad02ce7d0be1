"""Keeping the emulated Telegram's chats across restarts (the sandbox): messages with their
keyboards, the reply keyboard shown, the files, the command menus and the id counters, in a JSON
file with the files' bytes beside it. A restarted sandbox shows the same history, and the
buttons of earlier messages still work."""

from __future__ import annotations

import itertools
import json
import os
from dataclasses import fields
from pathlib import Path
from typing import Any

from bot.emulator.chats import ChatMessage, ChatState, StoredFile
from bot.emulator.commands import ScopeKey
from bot.emulator.models import Command
from bot.emulator.state import EmulatorState

FORMAT = 1
_MESSAGE_FIELDS = [f.name for f in fields(ChatMessage) if f.name not in {"document", "photo"}]


class ChatArchive:
    """`save(state)` writes `dir/chats.json` and `dir/files/*`; `load(state)` restores them."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.files_dir = directory / "files"
        self.index = directory / "chats.json"

    def file_path(self, stored: StoredFile) -> Path:
        """Where the bytes of a file are kept (written by `save`)."""
        return self.files_dir / stored.file_path.replace("/", "_")

    # --- saving -------------------------------------------------------------

    def save(self, state: EmulatorState) -> None:
        self.files_dir.mkdir(parents=True, exist_ok=True)
        files = []
        for stored in state.files._by_id.values():
            path = self.file_path(stored)
            if not path.exists():
                path.write_bytes(stored.data)
            meta = {k: v for k, v in vars(stored).items() if k != "data"}
            files.append(meta)
        body = {
            "format": FORMAT,
            "seq": state.last_seq,
            "next_update_id": state.updates._next_update_id,
            "file_counter": state.files._counter,
            "files": files,
            "chats": [self._chat(chat) for chat in state.chats.values()],
            "commands": [
                {"scope": list(scope), "language": language, "commands": list(map(list, cmds))}
                for (scope, language), cmds in state.commands._lists.items()
            ],
        }
        tmp = self.index.with_suffix(".tmp")
        tmp.write_text(json.dumps(body, ensure_ascii=False), "utf-8")
        os.replace(tmp, self.index)

    def _chat(self, chat: ChatState) -> dict[str, Any]:
        return {
            "chat_id": chat.chat_id,
            "user": chat.user,
            "kind": chat.kind,
            "title": chat.title,
            "reply_keyboard": chat.reply_keyboard,
            "menu_button": chat.menu_button,
            "next_message_id": chat._next_message_id,
            "messages": [self._message(m) for m in chat.messages],
        }

    @staticmethod
    def _message(message: ChatMessage) -> dict[str, Any]:
        body = {name: getattr(message, name) for name in _MESSAGE_FIELDS}
        body["document"] = message.document.file_id if message.document else None
        body["photo"] = message.photo.file_id if message.photo else None
        return body

    # --- loading ------------------------------------------------------------

    def load(self, state: EmulatorState) -> bool:
        """Restore a saved state into a fresh one; False when nothing was saved."""
        if not self.index.exists():
            return False
        body = json.loads(self.index.read_text("utf-8"))
        if body.get("format") != FORMAT:
            return False
        for meta in body["files"]:
            stored = StoredFile(data=b"", **meta)
            path = self.file_path(stored)
            stored.data = path.read_bytes() if path.exists() else b""
            state.files._by_id[stored.file_id] = stored
            state.files._by_path[stored.file_path] = stored
        state.files._counter = body["file_counter"]
        for saved in body["chats"]:
            chat = ChatState(
                chat_id=saved["chat_id"],
                user=saved["user"],
                kind=saved.get("kind", "private"),
                title=saved.get("title", ""),
            )
            chat.reply_keyboard = saved["reply_keyboard"]
            chat.menu_button = saved["menu_button"]
            chat._next_message_id = saved["next_message_id"]
            for raw in saved["messages"]:
                document, photo = raw.pop("document"), raw.pop("photo")
                message = ChatMessage(**raw)
                message.document = state.files.get(document) if document else None
                message.photo = state.files.get(photo) if photo else None
                chat.messages.append(message)
            state.chats[chat.chat_id] = chat
        for entry in body["commands"]:
            scope: ScopeKey = tuple(entry["scope"])
            state.commands._lists[(scope, entry["language"])] = [
                Command(*c) for c in entry["commands"]
            ]
        state.updates._next_update_id = body["next_update_id"]
        state._seq = itertools.count(body["seq"] + 1)
        state.last_seq = body["seq"]
        return True
