"""The profile as four forms on a phone: filled to 4/4 in a few actions, through the workflow."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from storage.models import EducationRecord, TraineeProfile, WorkRecord
from tests.factories import make_trainee
from tests.harness import BotHarness
from tests.miniapp.conftest import MiniApp

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "img"


class Counted:
    """The page's user actions, counted (a fill, a choice, a click or a key is one)."""

    def __init__(self, page) -> None:  # type: ignore[no-untyped-def]
        self.page = page
        self.actions = 0

    async def fill(self, selector: str, value: str) -> None:
        self.actions += 1
        await self.page.fill(selector, value)

    async def select(self, selector: str, value: str) -> None:
        self.actions += 1
        await self.page.select_option(selector, value)

    async def click(self, selector: str) -> None:
        self.actions += 1
        await self.page.click(selector)

    async def check(self, selector: str) -> None:
        self.actions += 1
        await self.page.check(selector)


async def test_a_new_trainee_fills_the_whole_profile_to_4_of_4_in_few_actions(
    app: BotHarness, miniapp: MiniApp, phone
) -> None:  # type: ignore[no-untyped-def]
    async with app.ctx() as ctx:
        actor = await make_trainee(ctx, tg_user_id=6001, complete=False)
    await phone.goto(miniapp.page("profile.html", 6001))
    await phone.wait_for_selector("#basic-save")
    assert "0/4" in await phone.inner_text("#progress") or "1/4" in await phone.inner_text(
        "#progress"
    )
    user = Counted(phone)

    await user.fill("#basic-ethnicity", "汉族")
    await user.select("#basic-political_status", "群众")
    await user.fill("#contact-email", "wang@example.com")
    await user.fill("#contact-address", "广州市越秀区中山二路 58 号")
    await user.fill("#contact-emergency_name", "王五")
    await user.fill("#contact-emergency_phone", "13912345678")
    await user.click("#education-add")
    await user.fill("#education-0-school", "中山大学")
    await user.fill("#education-0-major", "临床医学")
    await user.fill("#education-0-start_date", "2016-09-01")
    await user.fill("#education-0-end_date", "2021-06-30")
    await user.check("#work-has-no")
    # the completeness follows the unsaved forms
    await phone.wait_for_function("document.getElementById('progress').textContent.includes('4/4')")
    await user.click("#main-button")
    await phone.wait_for_selector("#all-complete:not([hidden])")
    assert user.actions < 25, user.actions
    # for the README: the top of the form, and the education records
    await phone.evaluate("window.scrollTo(0, 0)")
    await phone.wait_for_selector("#toast", state="hidden", timeout=10_000)
    await phone.screenshot(path=str(SCREENSHOTS / "miniapp-profile.png"))
    await phone.evaluate("document.getElementById('education').scrollIntoView()")
    await phone.evaluate("window.scrollBy(0, -56)")
    await phone.screenshot(path=str(SCREENSHOTS / "miniapp-profile-education.png"))

    async with app.ctx() as ctx:
        p = await ctx.session.get(TraineeProfile, actor.account_id)
        assert (p.ethnicity, p.political_status, p.email) == ("汉族", "群众", "wang@example.com")
        assert p.emergency_name == "王五" and p.has_work_unit is False
        assert ctx.cipher.decrypt("emergency_phone", p.emergency_phone_enc) == "+8613912345678"
        edu = (await ctx.session.scalars(select(EducationRecord))).all()
        assert [(e.school, e.is_first, e.is_highest, e.is_bachelor) for e in edu] == [
            ("中山大学", True, True, False)
        ]
        assert (await ctx.session.scalars(select(WorkRecord))).all() == []
