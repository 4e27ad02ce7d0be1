"""The Mini App and the chat are two faces of the same workflow: the same answers give the same
rows, and a refusal is the same text in both."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.i18n import Translator
from storage.models import EducationRecord, TraineeProfile, WorkRecord
from tests.harness import BotHarness
from tests.miniapp.conftest import MiniApp
from tests.trainee.conftest import last_answer
from tests.trainee.test_profile import back_to_menu


async def rows(app: BotHarness, account_id: int) -> dict[str, Any]:
    """What the profile holds, without ids."""
    async with app.ctx() as ctx:
        p = await ctx.session.get(TraineeProfile, account_id)
        edu = (
            await ctx.session.scalars(
                select(EducationRecord)
                .where(EducationRecord.account_id == account_id)
                .order_by(EducationRecord.start_date)
            )
        ).all()
        work = (
            await ctx.session.scalars(select(WorkRecord).where(WorkRecord.account_id == account_id))
        ).all()
        return {
            "profile": (
                p.ethnicity,
                p.political_status,
                p.email,
                p.address,
                p.emergency_name,
                ctx.cipher.decrypt("emergency_phone", p.emergency_phone_enc),
                p.has_work_unit,
            ),
            "education": [
                (
                    r.school,
                    r.major,
                    r.level,
                    r.start_date,
                    r.end_date,
                    r.is_first,
                    r.is_highest,
                    r.is_bachelor,
                )
                for r in edu
            ],
            "work": [
                (r.unit_name, r.position, r.start_date, r.end_date, r.is_current) for r in work
            ],
        }


async def fill_in_chat(user) -> None:  # type: ignore[no-untyped-def]
    await user.command("profile")
    await user.press("➡️ 去完善")
    await user.press("汉族")
    await back_to_menu(user)
    await user.press("➡️ 去完善")
    await user.press("共青团员")
    for answer in ("li@example.com", "广州市越秀区中山二路 1 号", "李四", "13900001111"):
        await back_to_menu(user)
        await user.press("➡️ 去完善")
        await user.send(answer)
    await back_to_menu(user)
    await user.press("➡️ 去完善")
    for answer in ("广东医科大学", "临床医学"):
        await user.send(answer)
    await user.press("大专")
    await user.send("2013-09-01")
    await user.send("2016-06-30")
    await user.press("☐ 第一学历")
    await back_to_menu(user)
    await user.press("➡️ 去完善")
    for answer in ("中山大学", "临床医学"):
        await user.send(answer)
    await user.press("本科")
    await user.send("2016-09-01")
    await user.send("2018-06-30")
    await user.press("☐ 本科学历")
    await user.press("☐ 最高学历")
    await back_to_menu(user)
    await user.press("➡️ 去完善")
    await user.press("有工作单位")
    await back_to_menu(user)
    await user.press("➡️ 去完善")
    await user.send("广州市第一人民医院")
    await user.press("跳过")
    await user.send("2021-08-01")
    await user.press("至今")
    await user.press("是")
    assert "完整度 4/4" in await back_to_menu(user)


async def fill_in_the_mini_app(page) -> None:  # type: ignore[no-untyped-def]
    await page.wait_for_selector("#basic-save")
    await page.fill("#basic-ethnicity", "汉族")
    await page.select_option("#basic-political_status", "共青团员")
    await page.fill("#contact-email", "li@example.com")
    await page.fill("#contact-address", "广州市越秀区中山二路 1 号")
    await page.fill("#contact-emergency_name", "李四")
    await page.fill("#contact-emergency_phone", "13900001111")
    for i, (school, level, start, end) in enumerate(
        [
            ("广东医科大学", "junior_college", "2013-09-01", "2016-06-30"),
            ("中山大学", "bachelor", "2016-09-01", "2018-06-30"),
        ]
    ):
        await page.click("#education-add")
        await page.fill(f"#education-{i}-school", school)
        await page.fill(f"#education-{i}-major", "临床医学")
        await page.select_option(f"#education-{i}-level", level)
        await page.fill(f"#education-{i}-start_date", start)
        await page.fill(f"#education-{i}-end_date", end)
    await page.check("#education-1-is_highest")  # moves 最高学历 off the first record
    await page.check("#education-1-is_bachelor")
    await page.check("#work-has-yes")
    await page.click("#work-add")  # the first unit of 有 is the current one
    await page.fill("#work-0-unit_name", "广州市第一人民医院")
    await page.fill("#work-0-start_date", "2021-08-01")
    await page.wait_for_function("document.getElementById('progress').textContent.includes('4/4')")
    await page.click("#main-button")
    await page.wait_for_selector("#all-complete:not([hidden])")


async def test_the_same_profile_filled_in_chat_and_in_the_mini_app_gives_the_same_rows(
    app: BotHarness, miniapp: MiniApp, phone, trainee
) -> None:  # type: ignore[no-untyped-def]
    user, in_chat = await trainee(6301, complete=False)
    await fill_in_chat(user)
    _, in_app = await trainee(6302, complete=False)
    await phone.goto(miniapp.page("profile.html", 6302))
    await fill_in_the_mini_app(phone)

    chat_rows, app_rows = await rows(app, in_chat.account_id), await rows(app, in_app.account_id)
    assert chat_rows == app_rows
    assert chat_rows["education"][0][5:] == (True, False, False)  # 大专: 第一学历
    assert chat_rows["work"][0][-1] is True

    # and the chat shows what the Mini App saved
    other = app.user(6302, language_code="zh-hans")
    await other.command("profile")
    assert "完整度 4/4" in other.last_bot_message().text


async def test_a_refusal_is_the_same_text_in_chat_and_in_the_mini_app(
    app: BotHarness, miniapp: MiniApp, phone, trainee
) -> None:  # type: ignore[no-untyped-def]
    zh = Translator("zh-CN")
    user, actor = await trainee(6303, complete=False)
    async with app.ctx() as ctx:
        gender = (await ctx.session.get(TraineeProfile, actor.account_id)).gender
    wrong = "female" if gender == "male" else "male"
    expected = zh.error("basic.gender_mismatch", {})

    await user.command("profile")
    await user.press("❌ 基本信息")
    await user.press("性别")
    await user.press("女" if wrong == "female" else "男")
    in_chat = last_answer(user)["text"]

    await phone.goto(miniapp.page("profile.html", 6303))
    await phone.wait_for_selector("#basic-save")
    await phone.select_option("#basic-gender", wrong)
    await phone.fill("#basic-ethnicity", "汉族")
    await phone.click("#basic-save")
    await phone.wait_for_selector("#basic-error:not([hidden])")
    in_app = await phone.inner_text("#basic-error")
    assert in_chat == in_app == expected
    assert await phone.get_attribute("[data-field='gender']", "class") == "field invalid"

    # a typed one: the same words under the field as in the chat's reply
    await user.press("⬅️ 返回")
    await back_to_menu(user)
    await user.press("❌ 联系信息")
    await user.press("电子邮箱")
    await user.send("not-an-email")
    assert zh.error("contact.email_invalid", {}) in user.last_bot_message().text
    status, body = await miniapp.as_user(
        6303, "profile/contact", {"values": {"email": "not-an-email"}}
    )
    assert status == 422 and body["message"] == zh.error("contact.email_invalid", {})

    async with app.ctx() as ctx:  # neither changed anything
        p = await ctx.session.get(TraineeProfile, actor.account_id)
        assert (p.gender, p.ethnicity, p.email) == (gender, None, None)
