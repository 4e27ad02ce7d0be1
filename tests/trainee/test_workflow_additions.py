"""Unit tests of the workflow modules the trainee dialogs added: `workflow.verification` (own
contact, SMS codes, the password typed twice) and `workflow.trainee_status` (deadlines, the
result a typed /accept is about)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from storage.models import PhoneVerification
from tests.conftest import CtxFactory
from tests.factories import build_world, make_trainee, sent, submitted
from workflow import application, results, trainee_status, verification
from workflow.clock import FrozenClock
from workflow.errors import DomainError


def test_only_the_senders_own_contact_proves_a_number() -> None:
    assert verification.own_contact(42, 42, "8613812345678") == "+8613812345678"
    assert verification.own_contact(42, 42, "+86 138 1234 5678") == "+8613812345678"
    for contact_user in (None, 43):
        with pytest.raises(DomainError) as e:
            verification.own_contact(contact_user, 42, "8613812345678")
        assert e.value.code == "reg.contact_not_own"
    with pytest.raises(DomainError) as e:
        verification.own_contact(42, 42, "447700900123")  # a UK number: not a Chinese mobile
    assert e.value.code == "phone.invalid"


async def test_a_code_is_kept_hashed_resent_after_a_minute_and_used_once(
    make_ctx: CtxFactory, clock: FrozenClock
) -> None:
    async with make_ctx() as ctx:
        e164, code = await verification.issue_code(ctx, 900, "138 0000 1111")
    assert e164 == "+8613800001111" and len(code) == 6 and code.isdigit()
    async with make_ctx() as ctx:
        row = await ctx.session.get(PhoneVerification, 900)
        assert code not in row.code_hash and b"13800001111" not in row.phone_enc
        assert await verification.pending_phone(ctx, 900) == e164
        with pytest.raises(DomainError) as e:
            await verification.issue_code(ctx, 900, "13800001111")
        assert e.value.code == "sms.resend_wait" and e.value.params["seconds"] == 60
    clock.advance(seconds=61)
    async with make_ctx() as ctx:
        _, code = await verification.issue_code(ctx, 900, "13800001111")
    async with make_ctx() as ctx:
        with pytest.raises(DomainError) as e:
            await verification.check_code(ctx, 900, "abc")
        assert e.value.code == "reg.code_wrong" and e.value.persist
    async with make_ctx() as ctx:
        assert (await ctx.session.get(PhoneVerification, 900)).attempts == 1
        assert await verification.check_code(ctx, 900, f" {code} ") == "+8613800001111"
    async with make_ctx() as ctx:
        assert await ctx.session.get(PhoneVerification, 900) is None
        with pytest.raises(DomainError) as e:
            await verification.check_code(ctx, 900, code)
        assert e.value.code == "sms.no_code"


async def test_codes_expire_and_too_many_wrong_codes_need_a_new_one(
    make_ctx: CtxFactory, clock: FrozenClock
) -> None:
    async with make_ctx() as ctx:
        _, code = await verification.issue_code(ctx, 901, "13800001112")
    for _ in range(verification.MAX_ATTEMPTS):
        async with make_ctx() as ctx:
            with pytest.raises(DomainError) as e:
                await verification.check_code(ctx, 901, "000000" if code != "000000" else "1")
    assert e.value.code == "sms.too_many_attempts"  # the fifth wrong one says so
    async with make_ctx() as ctx:
        with pytest.raises(DomainError) as e:
            await verification.check_code(ctx, 901, code)  # even the right one, now
        assert e.value.code == "sms.too_many_attempts"
    clock.advance(minutes=11)
    async with make_ctx() as ctx:
        _, code = await verification.issue_code(ctx, 901, "13800001112")
    clock.advance(minutes=11)
    async with make_ctx() as ctx:
        with pytest.raises(DomainError) as e:
            await verification.check_code(ctx, 901, code)
        assert e.value.code == "reg.code_expired"
        await verification.forget_code(ctx, 901)
    async with make_ctx() as ctx:
        assert (await ctx.session.scalars(select(PhoneVerification))).all() == []


async def test_the_first_password_waits_only_as_a_hash() -> None:
    pending = await verification.pending_password("Secret123x", "lilei")
    assert pending.startswith("$argon2id$") and "Secret123x" not in pending
    await verification.confirm_password(pending, "Secret123x")
    for other in ("Secret123y", ""):
        with pytest.raises(DomainError) as e:
            await verification.confirm_password(pending, other)
        assert e.value.code == "reg.password_mismatch"
    with pytest.raises(DomainError) as e:
        await verification.confirm_password(None, "Secret123x")
    assert e.value.code == "reg.password_mismatch"
    with pytest.raises(DomainError) as e:
        await verification.pending_password("lilei1234", "lilei")
    assert e.value.code == "reg.password_has_login"


async def test_open_deadlines_follow_the_application(
    make_ctx: CtxFactory, clock: FrozenClock
) -> None:
    async with make_ctx() as ctx:
        world = await build_world(ctx)
        trainee = await make_trainee(ctx)
        draft = await application.start(ctx, trainee, world.batch.id)
        deadlines = trainee_status.open_deadlines(draft, world.batch, [], ctx.now())
        assert [(d.kind, d.at) for d in deadlines] == [("apply_end", world.batch.apply_end)]
        other = await make_trainee(ctx)
        app = await sent(ctx, world, other)
        kinds = [d.kind for d in trainee_status.open_deadlines(app, world.batch, [], ctx.now())]
        assert kinds == ["acceptable_from", "confirm_end"]
        assert (await trainee_status.result_to_answer(ctx, other)).id == app.id
    clock.advance(hours=13)
    async with make_ctx() as ctx:
        app = await results.make_acceptable(ctx, app.id)
        kinds = [d.kind for d in trainee_status.open_deadlines(app, world.batch, [], ctx.now())]
        assert kinds == ["confirm_end"]
    clock.advance(days=20)
    async with make_ctx() as ctx:
        assert trainee_status.open_deadlines(app, world.batch, [], ctx.now()) == []
        assert await trainee_status.open_draft(ctx, trainee) is None  # the batch closed


async def test_own_records_only(make_ctx: CtxFactory) -> None:
    async with make_ctx() as ctx:
        world = await build_world(ctx)
        mine, theirs = await make_trainee(ctx), await make_trainee(ctx)
        app = await submitted(ctx, world, theirs)
        with pytest.raises(DomainError) as e:
            await trainee_status.own_application(ctx, mine, app.id)
        assert e.value.code == "not_found"
        assert await trainee_status.result_to_answer(ctx, mine) is None
        assert (await trainee_status.result_to_answer(ctx, theirs)).id == app.id
        assert await trainee_status.own_training(ctx, mine) is None
