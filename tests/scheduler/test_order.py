"""Notices of one subject in the order of the changes that caused them, also after quiet hours;
a notice whose subject moved on is not sent; base staff get one lock reminder for results sent
one by one; a blocked chat is an expected outcome."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from scheduler.sweeps import run_sweep
from storage.models import Application
from tests.conftest import CtxFactory
from tests.factories import World, make_batch, make_plan, make_trainee, submitted
from tests.harness import BotHarness
from tests.scheduler.conftest import outbox
from tests.scheduler.test_sender import people, queue, sends
from workflow import accounts, admission, results
from workflow import reminders as R
from workflow.actor import Actor
from workflow.context import Ctx

SH = ZoneInfo("Asia/Shanghai")
NIGHT = datetime(2026, 7, 1, 23, 0, tzinfo=SH)
MORNING = datetime(2026, 7, 2, 8, 0, tzinfo=SH)
BATCH = "2026年住培招收（补录）"


async def _order_sent(app: BotHarness, account_id: int) -> list[str]:
    """The dedupe keys of the account's rows in the order their messages arrived."""
    rows = [r for r in await outbox(app.db, account_id=account_id) if r.status == "sent"]
    return [r.dedupe_key for r in sorted(rows, key=lambda r: r.message_id or 0)]


async def _one_person_at_night(app: BotHarness) -> int:
    """The account of one person with an open chat; the clock at 23:00, in the quiet hours."""
    app.services.settings.outbox_per_chat_interval_seconds = 0.1
    ((account_id, _),) = await people(app, 1)
    app.clock.set(NIGHT)
    return account_id


async def test_one_subjects_notices_keep_their_order_through_quiet_hours(app: BotHarness) -> None:
    a = await _one_person_at_night(app)
    hour = timedelta(hours=1)
    subject = "application:1"
    # Queued in this order; by deadline alone they would go c, a, b.
    await queue(
        app,
        [
            {
                "account_id": a,
                "subject": subject,
                "dedupe_key": "a",
                "deadline_at": NIGHT + 30 * hour,
            },
            {"account_id": a, "subject": subject, "dedupe_key": "b"},
            {
                "account_id": a,
                "subject": subject,
                "dedupe_key": "c",
                "deadline_at": NIGHT + 12 * hour,
            },
        ],
    )
    assert await app.deliver() == 0  # quiet hours
    app.clock.set(MORNING)
    assert await app.deliver() == 3
    assert await _order_sent(app, a) == ["a", "b", "c"]


async def test_an_urgent_notice_at_night_takes_the_older_ones_of_its_subject_first(
    app: BotHarness,
) -> None:
    a = await _one_person_at_night(app)
    await queue(
        app,
        [
            {"account_id": a, "subject": "application:1", "dedupe_key": "older"},
            {"account_id": a, "subject": "application:2", "dedupe_key": "other subject"},
            {"account_id": a, "subject": "application:1", "dedupe_key": "urgent", "urgent": True},
        ],
    )
    assert await app.deliver() == 2
    assert await _order_sent(app, a) == ["older", "urgent"]
    app.clock.set(MORNING)
    assert await app.deliver() == 1


async def _admitted(ctx: Ctx, world: World, *tgs: int) -> list[tuple[Actor, Application]]:
    """Trainees (Telegram users `tgs`) admitted by base A in a batch of their own, not sent."""
    batch = await make_batch(ctx, name=BATCH, confirm_until=timedelta(days=20))
    await make_plan(ctx, batch, world.base_a, world.internal, 5)
    out = []
    for tg in tgs:
        trainee = await make_trainee(ctx, tg_user_id=tg)
        app_ = await submitted(ctx, world, trainee, batch=batch)
        await admission.pre_admit(ctx, world.staff_a, app_.id)
        await admission.admit(ctx, world.staff_a, app_.id)
        out.append((trainee, app_))
    return out


def _open_chat(app: BotHarness, tg: int) -> None:
    app.emulator.state.open_chat(app.user(tg, language_code="zh-hans").api)


async def _admitted_with_chat(
    app: BotHarness, world: World, make_ctx: CtxFactory, tg: int
) -> tuple[Actor, Application]:
    """One admitted trainee whose chat with the bot is open."""
    _open_chat(app, tg)
    async with make_ctx() as ctx:
        ((trainee, app_),) = await _admitted(ctx, world, tg)
    return trainee, app_


async def _cancellation(app: BotHarness, trainee: Actor) -> str:
    """The status of the trainee's notice that their result was cancelled."""
    kinds = {r.kind: r.status for r in await outbox(app.db, account_id=trainee.account_id)}
    return kinds["result_cancelled"]


CANCELLED = "取消</b>之前发送的录取结果"


def _texts(app: BotHarness, chat: int) -> list[str]:
    return [m.text or "" for m in app.emulator.messages(chat)]


async def test_a_cancellation_held_by_quiet_hours_does_not_follow_the_newer_result(
    app: BotHarness, world: World, make_ctx: CtxFactory
) -> None:
    tg = 9101
    trainee, app_ = await _admitted_with_chat(app, world, make_ctx, tg)
    for minute, action in ((10, "send"), (20, "cancel"), (30, "send")):
        app.clock.set(datetime(2026, 7, 1, 22, minute, tzinfo=SH))
        async with make_ctx() as ctx:
            if action == "send":
                if minute == 30:
                    await admission.admit(ctx, world.staff_a, app_.id)
                await admission.send_results(ctx, world.staff_a, [app_.id])
            else:
                await admission.cancel_admission(ctx, world.staff_a, app_.id)
    assert await app.deliver() == 0  # all held by the quiet hours
    app.clock.set(MORNING)
    await app.deliver()
    texts = _texts(app, tg)
    assert len(texts) == 1 and "已向您发送录取结果" in texts[0], texts
    assert not any(CANCELLED in t for t in texts)
    assert await _cancellation(app, trainee) == "superseded"


async def test_the_stale_cancellation_is_not_sent_after_an_acceptance(
    app: BotHarness, world: World, make_ctx: CtxFactory
) -> None:
    tg = 9102
    trainee, app_ = await _admitted_with_chat(app, world, make_ctx, tg)
    app.clock.set(datetime(2026, 7, 1, 22, 10, tzinfo=SH))
    async with make_ctx() as ctx:
        await admission.send_results(ctx, world.staff_a, [app_.id])
    app.clock.set(datetime(2026, 7, 1, 22, 20, tzinfo=SH))
    async with make_ctx() as ctx:
        await admission.cancel_admission(ctx, world.staff_a, app_.id)
        await admission.admit(ctx, world.staff_a, app_.id)
        await admission.send_results(ctx, world.staff_a, [app_.id])
    # The sender was down overnight; the result became acceptable and the trainee accepted.
    app.clock.set(datetime(2026, 7, 2, 10, 30, tzinfo=SH))
    async with make_ctx() as ctx:
        assert await results.make_acceptable(ctx, app_.id) is not None
        await results.accept(ctx, trainee, app_.id)
    await app.deliver()
    assert not any(CANCELLED in t for t in _texts(app, tg)), _texts(app, tg)
    assert await _cancellation(app, trainee) == "superseded"


async def test_base_staff_get_one_lock_reminder_with_the_count(
    app: BotHarness, world: World, make_ctx: CtxFactory
) -> None:
    staff_tg = 9200
    _open_chat(app, staff_tg)
    async with make_ctx() as ctx:
        await accounts.bind_chat(ctx, world.staff_a.account_id, staff_tg)
        apps = [app_.id for _, app_ in await _admitted(ctx, world, 9300, 9301, 9302)]
    start = app.clock.now()
    for i, app_id in enumerate(apps):  # sent one by one, a second apart
        app.clock.set(start + timedelta(seconds=i))
        async with make_ctx() as ctx:
            await admission.send_results(ctx, world.staff_a, [app_id])
    app.clock.set(start + timedelta(hours=11, minutes=30))  # the lock ends in 30 minutes
    await run_sweep(app.services)
    reminders = await outbox(app.db, kind=R.LOCK_ENDING)
    assert len(reminders) == 3  # one per moment the sweep found
    await app.deliver()
    texts = [t for t in _texts(app, staff_tg) if "录取结果即将锁定" in t]
    assert len(texts) == 1, texts
    assert "3 条录取结果" in texts[0]
    statuses = sorted(r.status for r in await outbox(app.db, kind=R.LOCK_ENDING))
    assert statuses == ["sent", "superseded", "superseded"]


async def test_a_blocked_chat_is_logged_as_an_outcome_without_a_traceback(
    app: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    ((a, chat),) = await people(app, 1)
    app.emulator.block_chat(chat)
    await queue(app, [{"account_id": a}])
    with caplog.at_level(logging.INFO):
        assert await app.deliver() == 0
    assert [c.status for c in app.emulator.calls_to("sendMessage")] == [403]
    mine = [r for r in caplog.records if r.name.startswith("scheduler")]
    assert any("blocked" in r.getMessage() and r.levelno == logging.INFO for r in mine)
    assert all(r.levelno <= logging.INFO and r.exc_info is None for r in mine)
    assert sends(app) == []
