"""§二 in chat: the profile menu shows the completeness of the four modules, says what exactly is
missing and leads there in one press; every field is checked and asked again; records are added,
flagged, edited and removed."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import EducationRecord, TraineeProfile, WorkRecord
from tests.harness import BotHarness
from tests.trainee.conftest import last_answer


async def back_to_menu(user) -> str:  # type: ignore[no-untyped-def]
    while "学员信息维护" not in user.last_bot_message().text:
        await user.press("⬅️ 返回")
    return user.last_bot_message().text


async def test_the_menu_leads_to_each_missing_item_until_the_profile_is_complete(
    app: BotHarness,
    trainee,  # type: ignore[no-untyped-def]
) -> None:
    user, actor = await trainee(7101, complete=False)
    await user.command("profile")
    menu = user.last_bot_message()
    assert "完整度 0/4" in menu.text
    assert "基本信息：请选择民族" in menu.text
    assert "教育信息：请添加学历记录（第一学历和最高学历）" in menu.text
    assert "工作信息：请选择是否有工作单位" in menu.text
    assert menu.buttons[:2] == [["❌ 基本信息", "❌ 联系信息"], ["❌ 教育信息", "❌ 工作信息"]]

    # basic: the missing items one press away, chosen with buttons
    await user.press("➡️ 去完善")
    assert "请选择民族" in user.last_bot_message().text
    await user.press("下一页 ▶️")
    await user.press("◀️ 上一页")
    await user.press("汉族")
    assert "民族：汉族" in user.last_bot_message().text
    await back_to_menu(user)
    await user.press("➡️ 去完善")
    await user.press("群众")
    assert "基本信息 ✅" in user.last_bot_message().text

    # contact: typed, checked, asked again; nothing saved is lost
    await back_to_menu(user)
    await user.press("➡️ 去完善")
    await user.send("not-an-email")
    assert "电子邮箱格式不正确" in user.last_bot_message().text
    assert "请输入电子邮箱" in user.last_bot_message().text
    await user.send("lilei@example.com")
    await back_to_menu(user)
    for answer in ("广州市越秀区中山二路 1 号", "李四", "020-83827812"):
        await user.press("➡️ 去完善")
        await user.send(answer)
        await back_to_menu(user)
    menu = user.last_bot_message()
    assert "完整度 2/4" in menu.text
    async with app.ctx() as ctx:
        p = await ctx.session.get(TraineeProfile, actor.account_id)
        assert p.email == "lilei@example.com" and p.ethnicity == "汉族"
        assert ctx.cipher.decrypt("emergency_phone", p.emergency_phone_enc) == "+862083827812"

    # education: a 大专 first degree without a 本科 record, and no highest degree
    await user.press("➡️ 去完善")
    assert "添加记录（1/5）" in user.last_bot_message().text
    for answer in ("广东医科大学", "临床医学"):
        await user.send(answer)
    await user.press("大专")
    await user.send("2013/9/1")
    await user.send("2016-06-30")
    assert "已添加" in user.last_bot_message().text
    await user.press("☐ 第一学历")
    assert "☑ 第一学历" in user.last_bot_message().buttons[0]
    menu_text = await back_to_menu(user)
    assert "第一学历是大专，请添加本科学历记录并勾选“本科学历”" in menu_text
    assert "教育信息：请勾选最高学历" in menu_text
    await user.press("➡️ 去完善")  # leads to adding the 本科 record
    for answer in ("中山大学", "临床医学"):
        await user.send(answer)
    await user.press("本科")
    await user.send("2016-09-01")
    await user.send("2015-06-30")
    refusal = user.last_bot_message().text
    assert "结束日期必须晚于开始日期" in refusal and "请输入结束日期" in refusal
    await user.send("2018-06-30")
    assert "中山大学" in user.last_bot_message().text
    await user.press("☐ 本科学历")
    await user.press("☐ 最高学历")
    async with app.ctx() as ctx:
        records = (
            await ctx.session.scalars(
                select(EducationRecord)
                .where(EducationRecord.account_id == actor.account_id)
                .order_by(EducationRecord.id)
            )
        ).all()
        assert [(r.level, r.is_first, r.is_bachelor, r.is_highest) for r in records] == [
            ("junior_college", True, False, False),
            ("bachelor", False, True, True),
        ]
        assert str(records[0].start_date) == "2013-09-01"

    # work: 有 with no current unit is still incomplete
    menu_text = await back_to_menu(user)
    assert "✅ 教育信息" in menu_text
    await user.press("➡️ 去完善")
    await user.press("有工作单位")
    await back_to_menu(user)
    await user.press("➡️ 去完善")
    await user.send("广州市第一人民医院")
    await user.press("跳过")
    await user.send("2021-08-01")
    await user.press("至今")
    await user.press("否")
    menu_text = await back_to_menu(user)
    assert "工作信息：请将当前所在单位设为“是”" in menu_text
    await user.press("❌ 工作信息")
    await user.press("1. 广州市第一人民医院")
    await user.press("☐ 是否为当前所在单位")
    menu_text = await back_to_menu(user)
    assert "完整度 4/4" in menu_text and "四个模块均已完整" in menu_text
    assert "➡️ 去完善" not in str(user.last_bot_message().buttons)
    async with app.ctx() as ctx:
        work = await ctx.session.scalar(
            select(WorkRecord).where(WorkRecord.account_id == actor.account_id)
        )
        assert work.is_current and work.position is None and work.end_date is None


async def test_a_record_is_edited_one_field_at_a_time_and_removed_after_confirmation(
    app: BotHarness,
    trainee,  # type: ignore[no-untyped-def]
) -> None:
    user, actor = await trainee(7102, language_code="en")
    await user.command("profile")
    assert "complete: 4/4" in user.last_bot_message().text
    await user.press("✅ Education")
    await user.press("1. 中山大学 · Bachelor")
    await user.press("Major")
    await user.send("x" * 65)
    assert "at most 64" in user.last_bot_message().text
    await user.send("Clinical Medicine")
    assert "Major: Clinical Medicine" in user.last_bot_message().text
    await user.press("Level")
    await user.press("Junior college")
    assert "Level: Junior college" in user.last_bot_message().text
    async with app.ctx() as ctx:
        rec = await ctx.session.scalar(
            select(EducationRecord).where(EducationRecord.account_id == actor.account_id)
        )
        assert rec.major == "Clinical Medicine" and rec.level == "junior_college"
        gender = (await ctx.session.get(TraineeProfile, actor.account_id)).gender
    await user.press("🗑 Delete this record")
    assert "Delete the record “中山大学”?" in user.last_bot_message().text
    await user.press("🗑 Yes, delete")
    assert "(no records yet)" in user.last_bot_message().text
    async with app.ctx() as ctx:
        assert (
            await ctx.session.scalar(
                select(EducationRecord).where(EducationRecord.account_id == actor.account_id)
            )
        ) is None

    # a choice the workflow refuses (a gender other than the ID's) changes nothing
    await user.press("⬅️ Back")
    await user.press("⬅️ Back")
    await user.press("✅ Basic information")
    await user.press("Gender")
    await user.press("Female" if gender == "male" else "Male")
    answer = last_answer(user)
    assert answer["show_alert"] is True and "ID" in answer["text"]
    async with app.ctx() as ctx:
        assert (await ctx.session.get(TraineeProfile, actor.account_id)).gender == gender
