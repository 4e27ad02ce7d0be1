"""A press that would change nothing (an option already chosen, a refresh with nothing new, a
stale page button) is answered with a toast and the message is not edited: no "message is not
modified" from Telegram, no silence."""

from __future__ import annotations

from handlers.reminders import ReminderToggle
from handlers.staff.callbacks import ListCb
from tests import factories
from tests.hardening.test_forged_presses import press
from tests.harness import BotHarness
from tests.staff.conftest import enrol
from workflow import reminders as R
from workflow.enums import Role

UNCHANGED = "已是当前内容，没有变化。"


def edits(app: BotHarness) -> list[int]:
    return [
        c.status
        for c in app.emulator.calls
        if c.method in ("editMessageText", "editMessageReplyMarkup")
    ]


async def test_a_refresh_with_nothing_new_is_a_toast_not_an_edit(
    app: BotHarness,
    trainee,  # type: ignore[no-untyped-def]
) -> None:
    user, actor = await trainee(7401)
    async with app.ctx() as ctx:
        world = await factories.build_world(ctx)
        await factories.submitted(ctx, world, actor)
    await user.command("status")
    card = user.last_bot_message()
    before = edits(app)
    answer = await user.press("🔄 刷新", message=card)
    assert answer.text == UNCHANGED and not answer.show_alert
    assert edits(app) == before
    assert not card.edited


async def test_the_page_already_shown_is_a_toast(app: BotHarness) -> None:
    async with app.ctx() as ctx:
        world = await factories.build_world(ctx)
        for n in range(10):
            trainee = await factories.make_trainee(ctx, name="学员" + "甲乙丙丁戊己庚辛壬癸"[n])
            await factories.submitted(ctx, world, trainee)
    base = (await enrol(app, 7411, Role.BASE, name="王主任", base_id=world.base_a.id)).user
    await base.command("queue")
    screen = base.last_bot_message()
    text = screen.text
    before = edits(app)
    answer = await press(base, ListCb(kind="pre", op="page", page=0).pack())
    assert answer.text == UNCHANGED
    assert edits(app) == before and screen.text == text
    # A real change still edits.
    await base.press("下一页 ▶️", message=screen)
    assert edits(app) == [*before, 200] and screen.edited


async def test_a_reminder_already_off_says_so_and_edits_nothing(
    app: BotHarness,
    trainee,  # type: ignore[no-untyped-def]
) -> None:
    user, _actor = await trainee(7402)
    await user.command("reminders")
    stale = ReminderToggle(kind=R.APPLY_PROFILE, mute=True).pack()
    await press(user, stale)  # off now: the menu is edited
    before = edits(app)
    answer = await press(user, stale)
    assert answer.text == "该提醒已经是关闭状态。"  # the screen's own answer is kept
    assert edits(app) == before
    assert all(status == 200 for status in edits(app))
