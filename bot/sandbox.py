"""A terminal chat with the sandbox bot: what you type is sent as a Telegram user would send it,
and what the bot answers (messages, edits, buttons) is printed. Lines starting with `!` act:

  !press LABEL     press a button (inline, or on the reply keyboard); the label may be given
                   without its emoji, or as a unique part of it
  !contact         share your own contact (each user has a phone number of its own)
  !upload PATH     send a file as a document
  !user ID         become another Telegram user (the web chat's personas: 10001-10004 trainees,
                   20001-20002 base staff, 30001 the city, 40001 the province)
  !help            this text

Files the bot sends are saved in the data directory; their path is printed.
"""

from __future__ import annotations

import asyncio
import re
import sys
import threading
import unicodedata
from pathlib import Path
from typing import Any

from bot.emulator import BotApiEmulator, ChatMessage, ScriptedUser, StoredFile
from bot.emulator.persistence import ChatArchive
from bot.webchat.personas import PERSONAS

SANDBOX_USER_ID = 10_001
POLL_SECONDS = 0.3
_PHONES = {p.user_id: p.phone for p in PERSONAS}


def phone_of(user_id: int) -> str:
    """Each user its own number, so that sharing the contact works for every one."""
    return _PHONES.get(user_id) or f"+86139{user_id % 100_000_000:08d}"


def _saved_path(stored: StoredFile, archive: ChatArchive | None) -> str:
    if archive is None:
        return "(not saved)"
    path = archive.file_path(stored)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(stored.data)
    return str(path.resolve())


def _show(message: ChatMessage, *, edited: bool, archive: ChatArchive | None = None) -> str:
    head = "🤖 (edited) " if edited else "🤖 "
    lines = [head + (message.text or "").replace("\n", "\n   ")]
    if message.document is not None:
        document = message.document
        lines.append(
            f"   📎 {document.file_name} ({document.size} bytes): {_saved_path(document, archive)}"
        )
    if message.photo is not None:
        lines.append("   🖼 photo")
    for row in message.buttons:
        lines.append("   " + "  ".join(f"[{label}]" for label in row))
    keyboard = message.reply_keyboard
    if keyboard:
        lines.append("   keyboard: " + " | ".join(" ".join(row) for row in keyboard))
    return "\n".join(lines)


class _Printer:
    """Prints the bot's new and edited messages of the current user's chat. Messages are
    remembered by chat and id (ids repeat across chats), with everything that shows: the
    text, the buttons' labels, deletion."""

    def __init__(self, archive: ChatArchive | None = None) -> None:
        self.seen: dict[tuple[int, int], tuple[Any, ...]] = {}
        self.archive = archive

    def remember(self, user: ScriptedUser) -> None:
        """Take what is in the chat already as seen (history from before a restart)."""
        for message in user.bot_messages(include_deleted=True):
            self.seen[(message.chat_id, message.message_id)] = _version(message)

    def flush(self, user: ScriptedUser) -> None:
        for message in user.bot_messages(include_deleted=True):
            key = (message.chat_id, message.message_id)
            version = _version(message)
            before = self.seen.get(key)
            if before == version:
                continue
            self.seen[key] = version
            if message.deleted:
                if before is not None:
                    print(f"🤖 (message {message.message_id} deleted)")
                continue
            print(_show(message, edited=before is not None, archive=self.archive), flush=True)


def _version(message: ChatMessage) -> tuple[Any, ...]:
    labels = tuple(tuple(row) for row in message.buttons)
    return (
        message.html,
        message.deleted,
        labels,
        message.reply_keyboard and str(message.reply_keyboard),
    )


def _new_user(emulator: BotApiEmulator, user_id: int) -> ScriptedUser:
    first_name = next((p.first_name for p in PERSONAS if p.user_id == user_id), "沙盒用户")
    return emulator.user(
        user_id, first_name=first_name, language_code="zh-hans", phone_number=phone_of(user_id)
    )


def _loose(label: str) -> str:
    """A label without emoji, symbols, punctuation and spaces, case-folded."""
    kept = (ch for ch in label if unicodedata.category(ch)[0] in "LN")
    return re.sub(r"\s+", "", "".join(kept)).casefold()


def visible_labels(user: ScriptedUser) -> list[str]:
    labels = [label for m in reversed(user.bot_messages()) for row in m.buttons for label in row]
    labels += [label for row in user.reply_keyboard or [] for label in row]
    return list(dict.fromkeys(labels))


def match_label(wanted: str, labels: list[str]) -> str:
    """The visible label meant by `wanted`: exact, then without emoji, then a unique prefix,
    then a unique part. ValueError when none or several fit."""
    if wanted in labels:
        return wanted
    loose = _loose(wanted)
    if not loose:
        raise ValueError(f"no button {wanted!r}")
    for test in (
        lambda label: _loose(label) == loose,
        lambda label: _loose(label).startswith(loose),
        lambda label: loose in _loose(label),
    ):
        found = [label for label in labels if test(label)]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise ValueError(f"{wanted!r} fits several buttons: {', '.join(found)}")
    raise ValueError(f"no button {wanted!r}; buttons: {', '.join(labels) or 'none'}")


def _read_file(raw: str) -> bytes:
    return Path(raw).expanduser().read_bytes()


async def _act(user: ScriptedUser, line: str) -> None:
    if line.startswith("!press "):
        label = match_label(line[len("!press ") :].strip(), visible_labels(user))
        answer = await user.press(label)
        if getattr(answer, "text", None):
            print(f"🔔 {answer.text}", flush=True)
    elif line == "!contact":
        await user.share_contact(user.phone_number or phone_of(user.user_id), own=True)
    elif line.startswith("!upload "):
        raw = line[len("!upload ") :].strip()
        data = await asyncio.to_thread(_read_file, raw)
        await user.upload(data, Path(raw).name)
    else:
        await user.send(line)


def _stdin_lines() -> asyncio.Queue[str]:
    """Lines typed in the terminal ("" at end of input). Read by a daemon thread, not by the
    loop's executor: a thread blocked in readline must not keep Ctrl-C from ending the bot."""
    loop = asyncio.get_running_loop()
    lines: asyncio.Queue[str] = asyncio.Queue()

    def read() -> None:
        while True:
            line = sys.stdin.readline()
            loop.call_soon_threadsafe(lines.put_nowait, line)
            if not line:
                return

    threading.Thread(target=read, name="terminal-chat-stdin", daemon=True).start()
    return lines


async def terminal_chat(emulator: BotApiEmulator, archive: ChatArchive | None = None) -> None:
    lines = _stdin_lines()
    user = _new_user(emulator, SANDBOX_USER_ID)
    printer = _Printer(archive)
    printer.remember(user)
    print(__doc__)
    print(f"You are Telegram user {user.user_id}. Type /start.", flush=True)

    async def watch() -> None:
        while True:
            printer.flush(user)
            await asyncio.sleep(POLL_SECONDS)

    watcher = asyncio.create_task(watch())
    try:
        while True:
            line = await lines.get()
            if not line:
                return
            line = line.strip()
            if not line:
                continue
            if line == "!help":
                print(__doc__, flush=True)
                continue
            if line.startswith("!user "):
                user = _new_user(emulator, int(line.split()[1]))
                printer.remember(user)
                print(f"You are now Telegram user {user.user_id}.", flush=True)
                continue
            try:
                await _act(user, line)
            except (AssertionError, OSError, ValueError) as exc:
                print(f"⚠️  {exc}", flush=True)
            printer.flush(user)
    finally:
        watcher.cancel()
