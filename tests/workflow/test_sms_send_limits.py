"""The SMS code's sending rules hold over every code asked for: a cancelled dialog or a failed
send neither restarts the resend interval nor the daily caps per chat and per number."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from storage.models import SmsSend
from tests.conftest import CtxFactory
from workflow import verification
from workflow.clock import FrozenClock
from workflow.errors import DomainError


async def refusal(make_ctx: CtxFactory, chat: int, phone: str) -> DomainError:
    async with make_ctx() as ctx:
        with pytest.raises(DomainError) as err:
            await verification.issue_code(ctx, chat, phone)
    return err.value


async def test_a_cancelled_dialog_does_not_restart_the_resend_interval(
    make_ctx: CtxFactory, clock: FrozenClock
) -> None:
    async with make_ctx() as ctx:
        await verification.issue_code(ctx, 960, "13900007777")
    async with make_ctx() as ctx:
        await verification.forget_code(ctx, 960)  # /cancel, then /register again
    clock.advance(seconds=20)
    err = await refusal(make_ctx, 960, "13900007777")
    assert err.code == "sms.resend_wait" and err.params["seconds"] == 40


async def test_codes_are_capped_per_chat_and_per_number_a_day_failed_ones_included(
    make_ctx: CtxFactory, clock: FrozenClock
) -> None:
    for i in range(verification.DAILY_SENDS):
        async with make_ctx() as ctx:
            previous = await verification.code_state(ctx, 961)
            e164, code = await verification.issue_code(ctx, 961, "13900008888")
            if i % 2:  # the provider failed this one
                await verification.withdraw_code(ctx, 961, e164, code, previous)
            else:
                await verification.forget_code(ctx, 961)
        clock.advance(seconds=61)
    err = await refusal(make_ctx, 961, "13900009999")  # the chat's cap, whatever the number
    assert err.code == "sms.daily_limit" and err.params["limit"] == verification.DAILY_SENDS
    err = await refusal(make_ctx, 962, "139 0000 8888")  # the number's cap, from another chat
    assert err.code == "sms.daily_limit"
    async with make_ctx() as ctx:
        await verification.issue_code(ctx, 962, "13900001234")  # that chat, another number

    clock.advance(hours=24)
    async with make_ctx() as ctx:
        await verification.issue_code(ctx, 961, "13900008888")
        kept = await ctx.session.scalar(select(func.count()).select_from(SmsSend))
    assert kept == 2  # older than a day is forgotten
