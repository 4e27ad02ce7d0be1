"""A terminal chat with the sandbox bot: what you type is sent as a Telegram user would send it,
and what the bot answers (messages, edits, buttons) is printed. Lines starting with `!` act:

  !press LABEL     press a button (inline, or on the reply keyboard)
  !contact         share your own contact (the sandbox user's phone)
  !upload PATH     send a file as a document
  !user ID         become another Telegram user (e.g. to accept a staff invitation)
  !help            this text
"""

from __future__ import annotations

import asyncio
import sys
import threading
from pathlib import Path

from bot.emulator import BotApiEmulator, ChatMessage, ScriptedUser

SANDBOX_USER_ID = 10_001
SANDBOX_PHONE = "+8613800138000"
POLL_SECONDS = 0.3


def _show(message: ChatMessage, *, edited: bool) -> str:
    head = "🤖 (edited) " if edited else "🤖 "
    lines = [head + (message.text or "").replace("\n", "\n   ")]
    if message.document is not None:
        lines.append(f"   📎 {message.document.file_name} ({message.document.size} bytes)")
    if message.photo is not None:
        lines.append("   🖼 photo")
    for row in message.buttons:
        lines.append("   " + "  ".join(f"[{label}]" for label in row))
    keyboard = message.reply_keyboard
    if keyboard:
        lines.append("   keyboard: " + " | ".join(" ".join(row) for row in keyboard))
    return "\n".join(lines)


class _Printer:
    """Prints the bot's new and edited messages of the current user's chat."""

    def __init__(self) -> None:
        self.seen: dict[int, tuple[str | None, bool, int]] = {}

    def flush(self, user: ScriptedUser) -> None:
        for message in user.bot_messages(include_deleted=True):
            version = (message.html, message.deleted, len(message.buttons))
            before = self.seen.get(message.message_id)
            if before == version:
                continue
            self.seen[message.message_id] = version
            if message.deleted:
                if before is not None:
                    print(f"🤖 (message {message.message_id} deleted)")
                continue
            print(_show(message, edited=before is not None), flush=True)


def _new_user(emulator: BotApiEmulator, user_id: int) -> ScriptedUser:
    return emulator.user(
        user_id, first_name="沙盒用户", language_code="zh-hans", phone_number=SANDBOX_PHONE
    )


def _read_file(raw: str) -> bytes:
    return Path(raw).expanduser().read_bytes()


async def _act(user: ScriptedUser, line: str) -> None:
    if line.startswith("!press "):
        answer = await user.press(line[len("!press ") :].strip())
        if getattr(answer, "text", None):
            print(f"🔔 {answer.text}", flush=True)
    elif line == "!contact":
        await user.share_contact(user.phone_number or SANDBOX_PHONE, own=True)
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


async def terminal_chat(emulator: BotApiEmulator) -> None:
    lines = _stdin_lines()
    user = _new_user(emulator, SANDBOX_USER_ID)
    printer = _Printer()
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
                print(f"You are now Telegram user {user.user_id}.", flush=True)
                continue
            try:
                await _act(user, line)
            except (AssertionError, OSError, ValueError) as exc:
                print(f"⚠️  {exc}", flush=True)
            printer.flush(user)
    finally:
        watcher.cancel()
