"""§四 in chat: the result's notices, accept and decline only inside the window (refused before
the lock period ends, after the confirmation period, and for a second admission of the same
cohort year), the status card kept up to date, and an allocation offer with its own period."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.notice_buttons import ResultAction
from storage.models import AllocationOffer, Application
from tests.factories import World, make_batch, make_plan, sent, submitted
from tests.harness import BotHarness
from tests.trainee.conftest import last_answer, press_data
from workflow import admission, allocation, results
from workflow.enums import ApplicationStatus, OfferStatus

ACCEPT = "✅ 接受录取结果"


async def make_acceptable(app: BotHarness, app_id: int) -> None:
    """What the scheduler's sweep does once the lock period has passed."""
    async with app.ctx() as ctx:
        assert await results.make_acceptable(ctx, app_id) is not None


async def test_accept_is_refused_before_the_lock_ends_and_works_inside_the_window(
    app: BotHarness,
    world: World,
    trainee,  # type: ignore[no-untyped-def]
) -> None:
    user, actor = await trainee(7301)
    async with app.ctx() as ctx:
        app_id = (await sent(ctx, world, actor)).id
    await user.command("status")
    card = user.last_bot_message()
    assert "志愿确认状态：未接受" in card.text
    assert "可确认录取结果：2026-07-01 22:00（还剩 12 小时）" in card.text
    assert ACCEPT not in str(card.buttons)  # no button inside the lock period

    assert await app.deliver() == 1
    notice = user.last_bot_message()
    assert "培训基地已向您发送录取结果" in notice.text
    assert "您可以在 2026-07-01 22:00 之后确认，截止 2026-07-21 10:00" in notice.text
    assert ACCEPT not in str(notice.buttons)

    await user.command("accept")  # typed before the lock period ends: refused with the dates
    assert (
        user.last_bot_message().text
        == "录取结果将于 2026-07-01 22:00 后才可确认（确认截止：2026-07-21 10:00）。"
    )

    app.clock.advance(hours=13)
    await make_acceptable(app, app_id)
    assert await app.deliver() == 1
    acceptable = user.last_bot_message()
    assert "录取结果现在可以确认了" in acceptable.text
    assert acceptable.buttons[0] == [ACCEPT, "❌ 拒绝"]

    await user.press(ACCEPT, message=acceptable)
    assert "您已接受录取结果" in user.last_bot_message().text
    assert acceptable.buttons == []  # the pressed message lost its buttons
    assert card.edited and "志愿确认状态：已接受" in card.text  # the card, edited in place
    assert ACCEPT not in str(card.buttons)
    async with app.ctx() as ctx:
        row = await ctx.session.get(Application, app_id)
        assert row.status == ApplicationStatus.ACCEPTED and row.answered_at is not None

    # pressed again (an old copy of the button): refused, nothing changes
    await press_data(user, acceptable, ResultAction(action="accept", app_id=app_id).pack())
    assert last_answer(user)["text"] == "您已接受该录取结果。"


async def test_accept_after_the_confirmation_period_is_refused_and_the_button_goes(
    app: BotHarness,
    world: World,
    trainee,  # type: ignore[no-untyped-def]
) -> None:
    user, actor = await trainee(7302)
    async with app.ctx() as ctx:
        app_id = (await sent(ctx, world, actor)).id
    app.clock.advance(hours=13)
    await make_acceptable(app, app_id)
    await app.deliver()
    acceptable = next(m for m in reversed(user.bot_messages()) if m.button(ACCEPT))

    app.clock.advance(days=21)
    await user.press(ACCEPT, message=acceptable)
    answer = last_answer(user)
    assert answer["show_alert"] is True
    assert (
        answer["text"]
        == "学员确认周期已结束（2026-07-01 22:00 至 2026-07-21 10:00），无法再确认录取结果。"
    )
    assert acceptable.buttons == []
    assert "学员确认周期已结束" in acceptable.text
    async with app.ctx() as ctx:
        assert (await ctx.session.get(Application, app_id)).status == ApplicationStatus.ACCEPTABLE
    await user.command("decline")
    assert "学员确认周期已结束" in user.last_bot_message().text


async def test_a_second_admission_of_the_same_cohort_year_is_refused(
    app: BotHarness,
    world: World,
    trainee,  # type: ignore[no-untyped-def]
) -> None:
    user, actor = await trainee(7303)
    async with app.ctx() as ctx:
        second_batch = await make_batch(ctx, name="2026年住培招收（第二批）")
        await make_plan(ctx, second_batch, world.base_b, world.internal, 2)
        first = (await sent(ctx, world, actor)).id
        other = (await sent(ctx, world, actor, batch=second_batch, base=world.base_b)).id
    app.clock.advance(hours=13)
    await make_acceptable(app, first)
    await make_acceptable(app, other)
    await user.command("status")
    card = user.last_bot_message()
    assert [f"{ACCEPT} · 2026年住培招收（第一批）", "❌ 拒绝"] in card.buttons
    await user.press(f"{ACCEPT} · 2026年住培招收（第一批）")
    assert "志愿确认状态：已接受" in card.text  # the card was edited in place
    await user.press(f"{ACCEPT} · 2026年住培招收（第二批）", message=card)
    assert last_answer(user)["text"] == "您在 2026 届已接受了一个录取结果，同一届别只能接受一个。"
    async with app.ctx() as ctx:
        assert (await ctx.session.get(Application, first)).status == ApplicationStatus.ACCEPTED
        assert (await ctx.session.get(Application, other)).status == ApplicationStatus.ACCEPTABLE


async def test_decline_asks_for_confirmation(
    app: BotHarness,
    world: World,
    trainee,  # type: ignore[no-untyped-def]
) -> None:
    user, actor = await trainee(7304, language_code="en")
    async with app.ctx() as ctx:
        app_id = (await sent(ctx, world, actor)).id
    app.clock.advance(hours=13)
    await make_acceptable(app, app_id)
    await app.deliver()
    assert "You can now accept your result" in user.last_bot_message().text
    await user.press("❌ Decline")
    assert "cannot be undone" in user.last_bot_message().text
    await user.press("No, keep it")
    assert user.last_bot_message().text == "Kept: you did not decline the result."
    async with app.ctx() as ctx:
        assert (await ctx.session.get(Application, app_id)).status == ApplicationStatus.ACCEPTABLE
    await user.press("❌ Decline")
    await user.press("Yes, decline")
    assert "You declined the result." in user.last_bot_message().text
    async with app.ctx() as ctx:
        assert (await ctx.session.get(Application, app_id)).status == ApplicationStatus.DECLINED


async def test_a_reassignment_offer_is_answered_within_its_period(
    app: BotHarness,
    world: World,
    trainee,  # type: ignore[no-untyped-def]
) -> None:
    user, actor = await trainee(7305)
    late, late_actor = await trainee(7306)
    async with app.ctx() as ctx:
        app_id = (await submitted(ctx, world, actor, reassign=True)).id
        late_id = (await submitted(ctx, world, late_actor, reassign=True)).id
        for a in (app_id, late_id):
            await admission.reject(ctx, world.staff_a, a, "名额已满")
    await app.deliver()
    assert "不录取" in user.last_bot_message().text and "名额已满" in user.last_bot_message().text
    async with app.ctx() as ctx:
        offer_id = (
            await allocation.offer(
                ctx, world.staff_b, app_id, world.base_b.id, world.site_b.id, world.internal.id
            )
        ).id
        late_offer = (
            await allocation.offer(
                ctx, world.staff_b, late_id, world.base_b.id, world.site_b.id, world.internal.id
            )
        ).id
    await app.deliver()
    offer = user.last_bot_message()
    assert "学员调配" in offer.text and "深圳市人民医院" in offer.text
    assert "请在 2026-07-03 10:00 前答复" in offer.text
    assert offer.buttons == [["✅ 接受调配", "❌ 拒绝调配"]]
    await user.press("✅ 接受调配")
    assert "您已接受调配" in user.last_bot_message().text
    async with app.ctx() as ctx:
        row = await ctx.session.get(Application, app_id)
        assert row.status == ApplicationStatus.ADMITTED and row.base_id == world.base_b.id
        assert (await ctx.session.get(AllocationOffer, offer_id)).status == OfferStatus.ACCEPTED

    app.clock.advance(timedelta(hours=49))  # past the offer period of the other trainee
    await late.press("❌ 拒绝调配")
    await late.press("确定拒绝")
    assert "调配答复期已于 2026-07-03 10:00 结束" in last_answer(late)["text"]
    async with app.ctx() as ctx:
        still = await ctx.session.scalar(
            select(AllocationOffer.status).where(AllocationOffer.id == late_offer)
        )
        assert still == OfferStatus.OFFERED
