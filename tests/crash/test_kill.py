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
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.emulator import BotApiEmulator
from storage.db import Database
from storage.models import Account, InboxUpdate, UpdateLog
from tests.walks import (
    STEP_TIMEOUT,
    ZHUPEI,
    BotProcess,
    bot_environment,
    fresh_database,
    transcript,
    wait_until,
    walk,
    without_repeats,
)

USERS = 40


# --- the test ----------------------------------------------------------------------------------


@pytest.mark.timeout(900)
async def test_three_kills_mid_burst_lose_and_repeat_no_step(tmp_path: Path) -> None:
    async with (
        fresh_database(tmp_path) as url,
        BotApiEmulator(
            token="424242:crash-test-token", processing_timeout=STEP_TIMEOUT
        ) as emulator,
    ):
        env = bot_environment(
            emulator, url, DATA_DIR=str(tmp_path / "data"), SHUTDOWN_GRACE_SECONDS="10"
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
