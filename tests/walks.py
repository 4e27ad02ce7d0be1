"""A burst of users registering step by step against the bot as a real process: the process
(`zhupei run`, started, killed, stopped), a database of its own, the registration walk, and what
each chat shows, call by call. Shared by the crash test, the two-instance test and the
benchmark that compares this bot with a typical one."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from bench.pg import scratch_database
from bot.emulator import BotApiEmulator, ScriptedUser
from tests.factories import make_id

PASSWORD = "Secret123x"
STEP_TIMEOUT = 90.0
ZHUPEI = Path(sys.executable).with_name("zhupei")
REPLY_METHODS = {"sendMessage", "editMessageText", "editMessageReplyMarkup", "deleteMessage"}


def bot_environment(emulator: BotApiEmulator, database_url: str, **settings: str) -> dict[str, str]:
    """The environment of a `zhupei run` against `emulator` on `database_url`: this process's,
    without its intake, Redis and ops settings, with a fresh key, the log SMS provider allowed
    and INFO logs; `settings` add or override (as environment variables)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k != "REDIS_URL" and not k.startswith(("WEBHOOK_", "OPS_"))
    }
    env.update(
        BOT_TOKEN=emulator.token,
        TELEGRAM_API_URL=emulator.url,
        DATABASE_URL=database_url,
        ENCRYPTION_KEY=base64.b64encode(os.urandom(32)).decode(),
        LOG_LEVEL="INFO",
        SMS_ALLOW_LOG_PROVIDER="true",
    )
    env.update(settings)
    return env


# --- the bot process ----------------------------------------------------------------------------


@dataclass
class BotProcess:
    env: dict[str, str]
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None
    starts: int = 0

    def start(self) -> None:
        self.starts += 1
        log = self.log_path.open("ab")
        log.write(f"\n===== start {self.starts} =====\n".encode())
        log.flush()
        self.proc = subprocess.Popen(
            [str(ZHUPEI), "run"], env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        log.close()

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def terminate(self, timeout: float) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-20_000:]


@contextlib.asynccontextmanager
async def fresh_database(tmp_path: Path) -> AsyncIterator[str]:
    """A database of its own: a throwaway one beside `DATABASE_URL` on PostgreSQL, else a
    SQLite file; upgraded by the caller with `zhupei db upgrade`, as an operator would."""
    base = os.environ.get("DATABASE_URL")
    if base and make_url(base).get_backend_name() != "sqlite":
        async with scratch_database(base, create_schema=False) as url:
            yield make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    else:
        yield f"sqlite:///{tmp_path / 'crash.db'}"


# --- users -------------------------------------------------------------------------------------


def transcript(emulator: BotApiEmulator, chat_id: int) -> list[str]:
    """What the bot did in the chat, call by call (only calls Telegram carried out), with the
    user's own letters and digits taken out so that every user's can be compared."""
    return [
        transcript_line(call.method, str(call.params.get("text", "")))
        for call in emulator.calls
        if call.chat_id == chat_id and call.status == 200 and call.method in REPLY_METHODS
    ]


def transcript_line(method: str, text: str) -> str:
    """One call as `transcript` shows it."""
    return f"{method}:{re.sub(r'[A-Za-z0-9*+_]', '', text)}"


def without_repeats(calls: list[str]) -> tuple[list[str], int]:
    """The transcript with a message sent twice in a row counted once, and how many were."""
    out: list[str] = []
    repeats = 0
    for call in calls:
        if out and call == out[-1] and call.startswith("sendMessage:"):
            repeats += 1
            continue
        out.append(call)
    return out, repeats


Step = Callable[[], Awaitable[None]]


def steps_of(
    user: ScriptedUser, i: int, id_number: str | None = None
) -> list[tuple[str, Callable[[], None]]]:
    """The registration walk of user number `i`, step by step: (name, action)."""
    emulator = user.emulator

    def text(value: str) -> Callable[[], None]:
        def act() -> None:
            body: dict[str, Any] = {"from": user.api, "text": value}
            if value.startswith("/"):
                body["entities"] = [{"type": "bot_command", "offset": 0, "length": len(value)}]
            emulator.submit_update({"message": body})

        return act

    def press(label: str) -> Callable[[], None]:
        def act() -> None:
            for message in reversed(user.bot_messages()):
                button = message.button(label)
                if button is not None:
                    query = {
                        "id": emulator.next_callback_id(),
                        "from": user.api,
                        "message": message.to_api(),
                        "chat_instance": f"ci{user.chat_id}",
                        "data": button["callback_data"],
                    }
                    emulator.submit_update({"callback_query": query})
                    return
            raise AssertionError(f"user {user.user_id} sees no button {label!r}")

        return act

    def contact() -> None:
        shared = {"phone_number": f"86139{i:08d}", "first_name": "T", "user_id": user.user_id}
        emulator.submit_update({"message": {"from": user.api, "contact": shared}})

    return [
        ("start", text("/start")),
        ("register", press("📝 学员注册")),
        ("program", press("住院医师规范化培训")),
        ("name", text("Tester " + "".join(chr(97 + int(d)) for d in str(i)))),
        ("id type", press("居民身份证")),
        ("id number", text(id_number or make_id(date(1980, 1, 1) + timedelta(days=37 * i)))),
        ("login", text(f"tester{i:04d}")),
        ("phone", contact),
        ("password", text(PASSWORD)),
        ("confirm", text(PASSWORD)),
    ]


async def walk(
    emulator: BotApiEmulator, user: ScriptedUser, i: int, expected: list[int] | None
) -> list[int]:
    """Take every step; before the next one, wait until the chat shows the whole answer: as
    many calls as the walk without kills had (`expected`), or, for that walk itself, until the
    chat has been quiet for a while. Returns the transcript length after each step."""
    lengths = []
    for number, (name, act) in enumerate(steps_of(user, i)):
        before = len(transcript(emulator, user.chat_id))
        act()
        deadline = time.monotonic() + STEP_TIMEOUT
        while True:
            now_len = len(transcript(emulator, user.chat_id))
            if expected is not None and now_len >= expected[number]:
                break
            if expected is None and now_len > before:
                await asyncio.sleep(1.0)  # the rest of the answer
                if len(transcript(emulator, user.chat_id)) == now_len:
                    break
                continue
            assert time.monotonic() < deadline, f"user {user.user_id}: step {name!r} unanswered"
            await asyncio.sleep(0.05)
        lengths.append(len(transcript(emulator, user.chat_id)))
    return lengths


async def wait_until(
    predicate: Callable[[], Any],
    seconds: float,
    what: str,
    bot: BotProcess,
) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if bot.proc is not None and bot.proc.poll() is not None:
            raise AssertionError(f"the bot exited ({bot.proc.returncode}):\n{bot.log()}")
        assert time.monotonic() < deadline, f"{what}\n{bot.log()}"
        await asyncio.sleep(0.05)
