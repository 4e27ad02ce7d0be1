"""The staff side as its users meet it: a world of two bases (Guangzhou, supervised by its city;
Shenzhen, supervised by the province), staff of each base, two city reviewers and the province,
each in their own chat, bound by their invitation link."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update

from bot.emulator import ChatMessage, ScriptedUser
from storage.models import Account, AuditLog, OutboxMessage, Plan, TelegramUser
from tests import factories
from tests.harness import BotHarness
from workflow import accounts
from workflow.actor import Actor
from workflow.enums import Role
from workflow.errors import DomainError


@dataclass
class Staff:
    user: ScriptedUser
    actor: Actor


@dataclass
class Console:
    app: BotHarness
    world: factories.World
    a: Staff  # staff of base A (广州市红十字会医院, supervised by 广州市)
    b: Staff  # staff of base B (深圳市人民医院, supervised by the province)
    gz: Staff  # city reviewer of 广州市
    sz: Staff  # city reviewer of 深圳市
    prov: Staff  # the province


async def invite(app: BotHarness, role: Role, *, base_id=None, city_id=None, name: str) -> str:  # type: ignore[no-untyped-def]
    async with app.ctx() as ctx:
        _account, token = await accounts.invite_staff(
            ctx, role, name, base_id=base_id, city_id=city_id
        )
    return token


async def enrol(app: BotHarness, user_id: int, role: Role, *, name: str, **scope: Any) -> Staff:
    """Invite a staff member and open the invitation link in their chat."""
    token = await invite(app, role, name=name, **scope)
    user = app.user(user_id, first_name=name)
    await user.command("start", token)
    async with app.ctx() as ctx:
        account = await accounts.account_of_tg(ctx, user_id)
        assert account is not None, user.last_bot_message().text
        return Staff(user, Actor.of(account))


@pytest.fixture
async def console(app: BotHarness) -> AsyncIterator[Console]:
    # The sender spaces messages to one chat by a second of real time; tests need not wait.
    app.services.settings.outbox_per_chat_interval_seconds = 0.01
    async with app.ctx() as ctx:
        world = await factories.build_world(ctx)
        # Room for the many trainees of a test in 内科 at both bases.
        await ctx.session.execute(
            update(Plan).where(Plan.specialty_id == world.internal.id).values(planned=30)
        )
    w = world
    yield Console(
        app=app,
        world=world,
        a=await enrol(app, 9101, Role.BASE, name="王主任", base_id=w.base_a.id),
        b=await enrol(app, 9102, Role.BASE, name="李科长", base_id=w.base_b.id),
        gz=await enrol(app, 9103, Role.CITY, name="广州审核员", city_id=w.gz.id),
        sz=await enrol(app, 9104, Role.CITY, name="深圳审核员", city_id=w.sz.id),
        prov=await enrol(app, 9105, Role.PROVINCE, name="省卫健委"),
    )


# --- helpers ----------------------------------------------------------------------------------


async def deliver_staff(app: BotHarness, *trainee_kinds: str) -> int:
    """Send the queued notices of staff accounts, and of trainees only those of `trainee_kinds`
    (what the outbox sender does). The trainee side renders its own notices; the others stay
    queued, and tests read them from the outbox."""
    async with app.ctx() as ctx:
        trainees = select(Account.id).where(Account.role == Role.TRAINEE)
        await ctx.session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.status == "pending",
                OutboxMessage.account_id.in_(trainees),
                OutboxMessage.kind.not_in(trainee_kinds),
            )
            .values(status="held")
        )
    try:
        return await app.deliver()
    finally:
        async with app.ctx() as ctx:
            await ctx.session.execute(
                update(OutboxMessage).where(OutboxMessage.status == "held").values(status="pending")
            )


async def press_data(user: ScriptedUser, data: str) -> Any:
    """Press the button with this callback data on the newest message that shows it."""
    for message in reversed(user.bot_messages()):
        for row in message.inline_keyboard:
            for button in row:
                if button.get("callback_data") == data:
                    return await user._press_inline(message, button)
    raise AssertionError(f"no button with callback data {data!r}; {user.bot_messages()[-3:]}")


def morning(app: BotHarness) -> None:
    """Move the clock on to the next 10:00 (Shanghai) when it stands in the quiet hours, in
    which the outbox holds non-urgent notices."""
    from datetime import timedelta

    from tests.conftest import SHANGHAI

    local = app.clock.now().astimezone(SHANGHAI)
    if 8 <= local.hour < 22:
        return
    target = local.replace(hour=10, minute=0, second=0, microsecond=0)
    if target <= local:
        target += timedelta(days=1)
    app.clock.advance(target - local)


async def notices(app: BotHarness, account_id: int, kind: str | None = None) -> list[OutboxMessage]:
    async with app.ctx() as ctx:
        stmt = select(OutboxMessage).where(OutboxMessage.account_id == account_id)
        if kind:
            stmt = stmt.where(OutboxMessage.kind == kind)
        return list((await ctx.session.scalars(stmt.order_by(OutboxMessage.id))).all())


async def audit_actions(
    app: BotHarness, entity: str, entity_id: int
) -> list[tuple[str, int | None]]:
    async with app.ctx() as ctx:
        rows = await ctx.session.execute(
            select(AuditLog.action, AuditLog.actor_id)
            .where(AuditLog.entity == entity, AuditLog.entity_id == entity_id)
            .order_by(AuditLog.id)
        )
        return [(a, who) for a, who in rows]


async def forge(user: ScriptedUser, data: str) -> Any:
    """Press a button the bot never showed this user: callback data taken from another chat
    or made up, sent from the user's latest bot message."""
    message = user.last_bot_message()
    return await user._press_inline(message, {"text": "forged", "callback_data": data})


def workbook(message: ChatMessage) -> Any:
    assert message.document is not None, message
    assert message.document.file_name and message.document.file_name.endswith(".xlsx")
    return load_workbook(io.BytesIO(message.document.data))


def sheet_rows(message: ChatMessage) -> list[dict[str, Any]]:
    ws = workbook(message).worksheets[0]
    values = list(ws.iter_rows(values_only=True))
    header = values[0]
    return [dict(zip(header, row, strict=True)) for row in values[1:]]


def cn(i: int) -> str:
    """Two Chinese digits for a name (names hold no digits): 3 → 零三."""
    return "".join("零一二三四五六七八九"[int(d)] for d in f"{i:02d}")


async def trainee(
    app: BotHarness, *, name: str = "张三", tg: int | None = None, **kw: Any
) -> Actor:
    async with app.ctx() as ctx:
        return await factories.make_trainee(ctx, name=name, tg_user_id=tg, **kw)


async def applied(console: Console, name: str, **kw: Any) -> tuple[Actor, int]:
    """A trainee who submitted an application (to base A, 内科, unless told otherwise)."""
    t = await trainee(console.app, name=name)
    async with console.app.ctx() as ctx:
        app_row = await factories.submitted(ctx, console.world, t, **kw)
    return t, app_row.id


async def bound_chat(app: BotHarness, account_id: int) -> int | None:
    async with app.ctx() as ctx:
        return await ctx.session.scalar(
            select(TelegramUser.id).where(TelegramUser.account_id == account_id)
        )


def saw(user: ScriptedUser, text: str) -> bool:
    """Whether some message of the chat (a new one, or one edited in place) says `text`."""
    return any(text in (m.text or "") for m in user.bot_messages())


def alert_of(record: Any) -> str:
    assert record.answered, "the callback query was not answered"
    return record.text or ""


async def run(app: BotHarness, call: Any) -> Any:
    """A workflow call in its own transaction (what the other side does outside this console)."""
    async with app.ctx() as ctx:
        return await call(ctx)


async def refused(app: BotHarness, call: Any) -> DomainError:
    with pytest.raises(DomainError) as e:
        async with app.ctx() as ctx:
            await call(ctx)
    return e.value
