"""Fifty simultaneous presses of submit, accept, admit and send (real overlapping updates through
the emulator: one trainee's presses, and five staff of one base pressing at once) have exactly
one effect in the database, and every press is answered, none with the apology. The same update
delivered twice, or twice at once, has one effect and one answer."""

from __future__ import annotations

import asyncio
from typing import Any

from aiogram.types import Update
from sqlalchemy import func, select

from bot.emulator import ScriptedUser
from bot.notice_buttons import ResultAction
from handlers.staff.callbacks import AppCb
from handlers.trainee.cb import ApplyCb
from storage.models import Application, AuditLog, OutboxMessage
from tests.factories import World, build_world, make_trainee, sent, submitted
from tests.hardening.kit import ZH, all_processed, fresh_user_id, no_apology, press_payload
from tests.harness import BotHarness
from workflow import accounts, admission, application
from workflow.actor import Actor
from workflow.enums import ApplicationStatus, PersonnelType, Role

PRESSES = 50


async def setup(app: BotHarness) -> World:
    async with app.ctx() as ctx:
        return await build_world(ctx)


async def trainee(app: BotHarness) -> tuple[ScriptedUser, Actor]:
    user_id = fresh_user_id()
    user = app.user(user_id)
    await user.command("start")
    async with app.ctx() as ctx:
        actor = await make_trainee(ctx, tg_user_id=user_id)
    return user, actor


async def base_staff(app: BotHarness, world: World, n: int) -> list[ScriptedUser]:
    users = []
    for i in range(n):
        async with app.ctx() as ctx:
            _, token = await accounts.invite_staff(
                ctx, Role.BASE, f"基地员工{i}", base_id=world.base_a.id
            )
        user = app.user(fresh_user_id(), first_name=f"员工{i}")
        await user.command("start", token)
        await user.command("admission")
        users.append(user)
    return users


async def press_all_at_once(app: BotHarness, users: list[ScriptedUser], data: str) -> list[str]:
    """PRESSES presses of `data`, spread over `users`, all queued before any is handled."""
    payloads = [
        press_payload(user, user.last_bot_message(), data)
        for i in range(PRESSES)
        for user in [users[i % len(users)]]
    ]
    ids = [app.emulator.enqueue_update(p) for p in payloads]
    await all_processed(app, ids)
    queries = [q for q in app.emulator.state.callbacks.values() if q.update_id in set(ids)]
    assert len(queries) == PRESSES
    assert all(q.answered for q in queries), [q for q in queries if not q.answered]
    for user in users:
        no_apology(user)
    return [(q.answer or {}).get("text") or "" for q in queries]


async def effects(app: BotHarness, app_id: int, action: str) -> int:
    async with app.ctx() as ctx:
        return int(
            await ctx.session.scalar(
                select(func.count())
                .select_from(AuditLog)
                .where(AuditLog.entity_id == app_id, AuditLog.action == action)
            )
            or 0
        )


async def status(app: BotHarness, app_id: int) -> str:
    async with app.ctx() as ctx:
        row = await ctx.session.get(Application, app_id)
        assert row is not None
        return str(row.status)


async def test_fifty_presses_of_submit_submit_once(app: BotHarness) -> None:
    world = await setup(app)
    user, actor = await trainee(app)
    async with app.ctx() as ctx:
        draft = await application.start(ctx, actor, world.batch.id)
        app_id = draft.id or 0
    async with app.ctx() as ctx:  # the wizard walked up to the review, not submitted
        for step in (
            lambda: application.choose_personnel_type(ctx, actor, app_id, PersonnelType.SOCIAL),
            lambda: application.confirm_info(ctx, actor, app_id),
            lambda: application.save_supplement(
                ctx, actor, app_id, {"fresh_graduate": True, "has_qualification": False}
            ),
            lambda: application.finish_supplement(ctx, actor, app_id),
            lambda: application.choose_specialty(ctx, actor, app_id, world.internal.id),
            lambda: application.choose_base(ctx, actor, app_id, world.base_a.id),
            lambda: application.choose_site(ctx, actor, app_id, world.site_a.id),
            lambda: application.set_reassignment(ctx, actor, app_id, True),
        ):
            await step()
    assert await status(app, app_id) == ApplicationStatus.DRAFT
    await press_all_at_once(app, [user], ApplyCb(a="confirm", app=app_id).pack())
    assert await status(app, app_id) == ApplicationStatus.SUBMITTED
    assert await effects(app, app_id, "submit") == 1


async def test_fifty_presses_of_accept_accept_once(app: BotHarness) -> None:
    world = await setup(app)
    user, actor = await trainee(app)
    async with app.ctx() as ctx:
        result = await sent(ctx, world, actor)
        app_id = result.id or 0
    app.clock.advance(hours=13)
    async with app.ctx() as ctx:
        notices_before = await ctx.session.scalar(select(func.count()).select_from(OutboxMessage))
    answers = await press_all_at_once(
        app, [user], ResultAction(action="accept", app_id=app_id).pack()
    )
    assert await status(app, app_id) == ApplicationStatus.ACCEPTED
    assert await effects(app, app_id, "accept") == 1
    assert answers.count(ZH("trainee.result.accepted_short")) == 1
    async with app.ctx() as ctx:
        notices_after = await ctx.session.scalar(select(func.count()).select_from(OutboxMessage))
    # The notices of one acceptance, not fifty.
    assert (notices_after or 0) - (notices_before or 0) <= 3


async def test_fifty_presses_of_admit_by_five_staff_admit_once(app: BotHarness) -> None:
    world = await setup(app)
    _, actor = await trainee(app)
    async with app.ctx() as ctx:
        row = await submitted(ctx, world, actor)
        await admission.pre_admit(ctx, world.staff_a, row.id)
        app_id = row.id or 0
    staff = await base_staff(app, world, 5)
    await press_all_at_once(app, staff, AppCb(act="adm", id=app_id, kind="adm").pack())
    assert await status(app, app_id) == ApplicationStatus.ADMITTED
    assert await effects(app, app_id, "admit") == 1


async def test_fifty_presses_of_send_by_five_staff_send_once(app: BotHarness) -> None:
    world = await setup(app)
    _, actor = await trainee(app)
    async with app.ctx() as ctx:
        row = await submitted(ctx, world, actor)
        await admission.pre_admit(ctx, world.staff_a, row.id)
        await admission.admit(ctx, world.staff_a, row.id)
        app_id = row.id or 0
    staff = await base_staff(app, world, 5)
    await press_all_at_once(app, staff, AppCb(act="snd", id=app_id, kind="adm").pack())
    assert await status(app, app_id) == ApplicationStatus.SENT
    assert await effects(app, app_id, "send_result") == 1
    async with app.ctx() as ctx:
        sent_notices = await ctx.session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.account_id == actor.account_id)
            .where(OutboxMessage.kind == "result_sent")
        )
    assert sent_notices == 1


async def redeliver(app: BotHarness, update_id: int) -> None:
    assert app.dp is not None and app.bot is not None
    payload: dict[str, Any] = app.emulator.state.updates.records[update_id].payload
    update = Update.model_validate(payload | {"update_id": update_id}, context={"bot": app.bot})
    await app.dp.feed_update(app.bot, update)


async def test_a_redelivered_press_has_one_effect_and_one_answer(app: BotHarness) -> None:
    world = await setup(app)
    user, actor = await trainee(app)
    async with app.ctx() as ctx:
        result = await sent(ctx, world, actor)
        app_id = result.id or 0
    app.clock.advance(hours=13)
    data = ResultAction(action="accept", app_id=app_id).pack()
    update_id = app.emulator.enqueue_update(press_payload(user, user.last_bot_message(), data))
    await app.emulator.wait_processed(update_id)
    answers = len(app.emulator.calls_to("answerCallbackQuery"))
    shown = [m.text for m in user.bot_messages()]
    # Delivered again, once after the first and twice at the same time.
    await redeliver(app, update_id)
    await asyncio.gather(redeliver(app, update_id), redeliver(app, update_id))
    assert len(app.emulator.calls_to("answerCallbackQuery")) == answers
    assert [m.text for m in user.bot_messages()] == shown
    assert await effects(app, app_id, "accept") == 1
    no_apology(user)


async def test_a_redelivered_start_sends_one_welcome(app: BotHarness) -> None:
    user = app.user(fresh_user_id())
    record, _ = app.emulator.submit_update(
        {
            "message": {
                "from": user.api,
                "text": "/start",
                "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
            }
        }
    )
    await app.emulator.wait_processed(record.update_id)
    welcome = [m.text for m in user.bot_messages()]
    assert len(welcome) == 1
    await asyncio.gather(redeliver(app, record.update_id), redeliver(app, record.update_id))
    assert [m.text for m in user.bot_messages()] == welcome
