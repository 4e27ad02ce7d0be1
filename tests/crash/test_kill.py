"""The bot as a real process, killed with SIGKILL mid-burst and restarted: every step of every
user is answered exactly once, and what the database holds is what a run without kills leaves.

Users register step by step (ten steps each: /start, buttons, typed answers, the shared contact,
the password twice), each waiting for the bot's answer before the next step, as people do. The
bot is killed three times, each at a moment the emulator holds for it:
- while an edit is answered: Telegram applied it, the response never reached the bot;
- after a batch was fetched and stored, while the getUpdates that confirms it is on its way;
- after an update's changes were committed, while its reply (a sendMessage) is on its way.
Each time the bot is started again on the same database. One user first walks the same steps
alone, with no kill: their transcript is what every user's must be: no step lost, none answered
as another step's input. The bot notes each reply the moment Telegram answered it
(bot/reply_marks.py), so a reply accepted before a kill is not sent again after the restart
even when the database had not recorded it yet; only one whose answer was arriving at the very
instant of a kill can be (Telegram has no idempotency key). Such repeats are counted, reported
and bounded by the kills (two each at most), never taken for an answer.
"""

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

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from bot.emulator import BotApiEmulator, ScriptedUser
from storage.db import Database, async_url
from storage.models import Account, InboxUpdate, UpdateLog
from tests.factories import make_id

USERS = 40
PASSWORD = "Secret123x"
STEP_TIMEOUT = 90.0
ZHUPEI = Path(sys.executable).with_name("zhupei")
REPLY_METHODS = {"sendMessage", "editMessageText", "editMessageReplyMarkup", "deleteMessage"}


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
    """A database of its own, upgraded by `zhupei db upgrade` as an operator would."""
    base = os.environ.get("DATABASE_URL")
    if base and make_url(base).get_backend_name() != "sqlite":
        import asyncpg

        admin = make_url(async_url(base))
        name = f"zhupei_crash_{os.getpid()}_{int(time.time())}"

        async def admin_exec(sql: str) -> None:
            conn = await asyncpg.connect(
                host=admin.host,
                port=admin.port or 5432,
                user=admin.username,
                password=admin.password,
                database=admin.database,
            )
            try:
                await conn.execute(sql)
            finally:
                await conn.close()

        await admin_exec(f'CREATE DATABASE "{name}"')
        url = admin.set(drivername="postgresql", database=name).render_as_string(
            hide_password=False
        )
        try:
            yield url
        finally:
            await admin_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        yield f"sqlite:///{tmp_path / 'crash.db'}"


# --- users -------------------------------------------------------------------------------------


def transcript(emulator: BotApiEmulator, chat_id: int) -> list[str]:
    """What the bot did in the chat, call by call (only calls Telegram carried out), with the
    user's own letters and digits taken out so that every user's can be compared."""
    out = []
    for call in emulator.calls:
        if call.chat_id != chat_id or call.status != 200 or call.method not in REPLY_METHODS:
            continue
        text = str(call.params.get("text", ""))
        out.append(f"{call.method}:{re.sub(r'[A-Za-z0-9*+_]', '', text)}")
    return out


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


def steps_of(user: ScriptedUser, i: int) -> list[tuple[str, Callable[[], None]]]:
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
        ("id number", text(make_id(date(1980, 1, 1) + timedelta(days=37 * i)))),
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


# --- the test ----------------------------------------------------------------------------------


@pytest.mark.timeout(900)
async def test_three_kills_mid_burst_lose_and_repeat_no_step(tmp_path: Path) -> None:
    async with (
        fresh_database(tmp_path) as url,
        BotApiEmulator(
            token="424242:crash-test-token", processing_timeout=STEP_TIMEOUT
        ) as emulator,
    ):
        env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "WEBHOOK_URL"}}
        env.update(
            BOT_TOKEN=emulator.token,
            TELEGRAM_API_URL=emulator.url,
            DATABASE_URL=url,
            DATA_DIR=str(tmp_path / "data"),
            ENCRYPTION_KEY=base64.b64encode(os.urandom(32)).decode(),
            LOG_LEVEL="INFO",
            SMS_ALLOW_LOG_PROVIDER="true",
            SHUTDOWN_GRACE_SECONDS="10",
        )
        upgrade = await asyncio.create_subprocess_exec(
            str(ZHUPEI), "db", "upgrade", env=env, stderr=asyncio.subprocess.PIPE
        )
        _, err = await upgrade.communicate()
        assert upgrade.returncode == 0, err.decode()
        bot = BotProcess(env, tmp_path / "bot.log")
        bot.start()
        try:
            await run_scenario(emulator, bot)
            assert bot.terminate(timeout=30) == 0, bot.log()  # SIGTERM: a clean exit
        finally:
            if bot.proc is not None and bot.proc.poll() is None:
                bot.proc.kill()
        assert not emulator.violations, emulator.violations
        # The last batch was confirmed before the exit: nothing is delivered again.
        assert emulator.state.updates.deliverable() == []
        db = Database(url)
        try:
            async with db.transaction() as session:
                accounts = await session.scalar(select(func.count()).select_from(Account))
                inbox = await session.scalar(select(func.count()).select_from(InboxUpdate))
                owed = await session.scalar(
                    select(func.count())
                    .select_from(UpdateLog)
                    .where(UpdateLog.replies_enc.is_not(None))
                )
        finally:
            await db.dispose()
        assert (accounts, inbox, owed) == (USERS + 1, 0, 0), bot.log()


async def run_scenario(emulator: BotApiEmulator, bot: BotProcess) -> None:
    await wait_until(lambda: emulator.calls_to("getUpdates"), 60, "the bot did not start", bot)

    # The walk without kills.
    model = emulator.user(5_000_000, language_code="zh-hans", first_name="T")
    lengths = await walk(emulator, model, 0, None)
    expected = transcript(emulator, model.chat_id)
    assert expected[-1].startswith("sendMessage:") and "注册完成" in "".join(expected), expected

    users = [
        emulator.user(5_000_001 + i, language_code="zh-hans", first_name="T") for i in range(USERS)
    ]
    walks = [asyncio.create_task(walk(emulator, u, i + 1, lengths)) for i, u in enumerate(users)]
    total = USERS * len(lengths)

    def progress() -> int:
        return sum(
            sum(1 for n in lengths if len(transcript(emulator, u.chat_id)) >= n) for u in users
        )

    def before_confirmation() -> Any:
        last = max(emulator.state.updates.records)
        return emulator.hold("getUpdates", where=lambda p: (p.get("offset") or 0) > last)

    moments = [  # edits come early in the walk (the first presses), replies all along
        (0.1, lambda: emulator.hold("editMessageText", after=True)),
        (0.35, before_confirmation),
        (0.6, lambda: emulator.hold("sendMessage")),
    ]
    for share, arm in moments:
        await wait_until(lambda share=share: progress() >= share * total, 300, "stalled", bot)
        hold = arm()
        await asyncio.wait_for(hold.reached.wait(), 60)
        bot.kill()
        if hold.after:
            hold.release.set()  # the effect is there; only the response was lost
        # A call held before its effect is never released: its client is gone, and the
        # emulator drops it as Telegram would a request that never arrived.
        calls_before = len(emulator.calls_to("getUpdates"))
        bot.start()
        await wait_until(
            lambda n=calls_before: len(emulator.calls_to("getUpdates")) > n,
            60,
            "the bot did not come back",
            bot,
        )
    try:
        await asyncio.wait_for(asyncio.gather(*walks), 600)
    except Exception:
        print(bot.log())
        raise
    await asyncio.sleep(2.0)  # anything answered twice would show by now
    repeated = 0
    for user in users:
        seen, again = without_repeats(transcript(emulator, user.chat_id))
        assert seen == expected, (user.user_id, bot.log())
        repeated += again
    # A reply whose answer from Telegram was arriving at the instant of a kill, before the bot
    # could note it, goes out again after the restart: the only repeat there can be. A busy
    # event loop can leave a couple of such answers unread at one kill.
    print(f"messages repeated after the kills: {repeated}")
    assert repeated <= 2 * len(moments)
    assert bot.starts == 4


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
