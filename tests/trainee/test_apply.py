"""§三 in chat: the six-step wizard with live plan numbers, edits and back buttons, a restart in
the middle, the irreversible submit (pressed twice, edited after), the status card and the
application form PDF."""

from __future__ import annotations

import asyncio
import io

from pypdf import PdfReader
from sqlalchemy import func, select

from handlers.trainee.cb import ApplyCb
from storage.models import Application, AuditLog, StatusCard, TraineeProfile
from tests.factories import World, submitted
from tests.harness import BotHarness
from tests.trainee.conftest import last_answer, press_data
from workflow.enums import ApplicationStatus


async def test_own_unit_trainee_without_a_current_unit_cannot_choose_own_unit(
    app: BotHarness,
    world: World,
    trainee,  # type: ignore[no-untyped-def]
) -> None:
    user, _actor = await trainee(7201, has_work_unit=False)
    await user.command("apply")
    assert "2026年住培招收（第一批）" in user.last_bot_message().text
    await user.press("2026年住培招收（第一批）")
    assert "第 2/6 步：选择个人身份" in user.last_bot_message().text
    await user.press("本单位住院医师")
    answer = last_answer(user)
    assert answer["show_alert"] is True
    assert "必须在工作信息中填写一个当前所在单位" in answer["text"]
    async with app.ctx() as ctx:
        draft = await ctx.session.scalar(select(Application))
        assert draft.personnel_type is None and draft.step == "personnel_type"


async def test_incomplete_profile_is_sent_to_what_is_missing(
    app: BotHarness,
    world: World,
    trainee,  # type: ignore[no-untyped-def]
) -> None:
    user, _actor = await trainee(7202, complete=False)
    await user.command("apply")
    await user.press("2026年住培招收（第一批）")
    assert "个人信息尚未完善：基本信息：请选择民族" in user.last_bot_message().text
    await user.press("➡️ 去完善")
    assert "请选择民族" in user.last_bot_message().text


async def test_the_wizard_from_batch_to_submit_survives_a_restart(
    app: BotHarness,
    world: World,
    trainee,  # type: ignore[no-untyped-def]
) -> None:
    user, actor = await trainee(7203)
    await user.command("apply")
    batches = user.last_bot_message().text
    assert "报名周期：2026-06-30 10:00 至 2026-07-11 10:00" in batches
    await user.press("2026年住培招收（第一批）")
    await user.press("面向社会招收住院医师")
    info = user.last_bot_message().text
    assert "第 3/6 步：确认个人信息" in info and "个人身份" not in info

    # edit the profile and come back
    await user.press("✏️ 修改个人信息")
    await user.press("↩️ 返回报名（确认个人信息）")
    assert "第 3/6 步：确认个人信息" in user.last_bot_message().text
    await user.press("⬅️ 返回")
    assert "第 2/6 步" in user.last_bot_message().text
    await user.press("面向社会招收住院医师")
    await user.press("✅ 信息无误，下一步")

    supplement = user.last_bot_message().text
    assert "注意事项：请按照住培基地录取结果选择对应的住培基地和培训专业。" in supplement
    await user.press("应届毕业生：是")
    await user.press("已取得医师资格证书")
    await user.press("✏️ 填写医师资格证书编码")
    await user.send("12-34")
    assert "医师资格证书编码应为 8–30 位字母或数字" in user.last_bot_message().text
    await user.send("110440100012345")
    assert "医师资格证书编码：110440100012345" in user.last_bot_message().text
    await user.press("下一步 ▶️")

    assert "第 5/6 步：选择拟培训专业" in user.last_bot_message().text
    await user.press("内科")
    bases = user.last_bot_message()
    assert "拟培训专业：内科" in bases.text
    assert ["广州市红十字会医院 · 计划 2 · 已报名 0"] in bases.buttons
    assert ["深圳市人民医院 · 计划 2 · 已报名 0"] in bases.buttons

    # a button of a step already left: refused as stale, the current step shown again
    async with app.ctx() as ctx:
        app_id = await ctx.session.scalar(
            select(Application.id).where(Application.account_id == actor.account_id)
        )
    stale = ApplyCb(a="spec", app=app_id, v=str(world.pediatrics.id)).pack()
    await press_data(user, bases, stale)
    assert "这个按钮属于已经离开的步骤" in last_answer(user)["text"]
    assert "第 5/6 步：选择国家住培基地" in bases.text

    # another trainee submits meanwhile: the count is live
    async with app.ctx() as ctx:
        from tests.factories import make_trainee

        other = await make_trainee(ctx, name="王五")
        await submitted(ctx, world, other)

    # a restart in the middle: /apply resumes at the same step with the same answers
    await app.restart()
    await user.command("apply")
    resumed = user.last_bot_message()
    assert "第 5/6 步：选择国家住培基地" in resumed.text and "拟培训专业：内科" in resumed.text
    assert ["广州市红十字会医院 · 计划 2 · 已报名 1"] in resumed.buttons
    await user.press("广州市红十字会医院 · 计划 2 · 已报名 1")
    await user.press("广州市红十字会医院 · 已报名 1")
    await user.press("是，接受调剂")

    review = user.last_bot_message().text
    for line in (
        "批次名称：2026年住培招收（第一批）",
        "报名状态：未提交",
        "信息完整状态：已完整",
        "人员类型：面向社会招收住院医师",
        "第一志愿 · 国家住培基地：广州市红十字会医院",
        "是否接受专业调剂：是",
        "是否应届毕业生：是",
    ):
        assert line in review, line
    await user.press("📨 提交报名")
    confirm = user.last_bot_message()
    assert "报名信息一旦提交后便不可修改和取消报名，请您谨慎提交！" in confirm.text
    async with app.ctx() as ctx:
        draft = await ctx.session.scalar(
            select(Application).where(Application.account_id == actor.account_id)
        )
        assert draft.status == ApplicationStatus.DRAFT and draft.step == "review"
        app_id = draft.id

    # submit pressed twice: one submission, the second press refused
    await asyncio.gather(user.press("确定提交"), user.press("确定提交"))
    answers = [
        c.answer.get("text")
        for c in user.emulator.state.callbacks.values()
        if c.answer and c.answer.get("show_alert")
    ]
    assert answers.count("报名信息已提交，不能修改或取消。") == 1
    assert "报名已提交" in user.last_bot_message().text
    async with app.ctx() as ctx:
        done = await ctx.session.get(Application, app_id)
        assert done.status == ApplicationStatus.SUBMITTED and done.submitted_at is not None
        assert done.supplement == {
            "fresh_graduate": True,
            "has_qualification": True,
            "qualification_no": "110440100012345",
        }
        submits = await ctx.session.scalar(
            select(func.count(AuditLog.id)).where(
                AuditLog.entity == "application",
                AuditLog.entity_id == app_id,
                AuditLog.action == "submit",
            )
        )
        assert submits == 1

    # an edit after submit is refused, whatever button it comes from
    spec_id = world.pediatrics.id
    await press_data(
        user, user.last_bot_message(), ApplyCb(a="spec", app=app_id, v=str(spec_id)).pack()
    )
    assert last_answer(user)["text"] == "报名信息已提交，不能修改或取消。"
    await user.command("apply")
    assert "您在此批次的报名：已提交" in user.last_bot_message().text
    await user.press("2026年住培招收（第一批）")
    assert "该批次的报名已提交，不能修改或取消。" in user.last_bot_message().text
    async with app.ctx() as ctx:
        assert (
            await ctx.session.get(Application, app_id)
        ).intended_specialty_id == world.internal.id


async def test_status_card_shows_deadlines_and_the_form_prints_every_field(
    app: BotHarness,
    world: World,
    trainee,  # type: ignore[no-untyped-def]
) -> None:
    user, actor = await trainee(7204, name="赵六")
    async with app.ctx() as ctx:
        from workflow import application

        draft = await application.start(ctx, actor, world.batch.id)
        draft_id = draft.id
    await user.command("status")
    card = user.last_bot_message()
    assert "报名状态：未提交" in card.text and "信息完整状态：已完整" in card.text
    assert "报名截止：2026-07-11 10:00（还剩 10 天）" in card.text
    assert "您的报名信息尚未提交" in card.text
    assert ["▶️ 继续报名"] in card.buttons
    async with app.ctx() as ctx:
        remembered = await ctx.session.get(StatusCard, actor.account_id)
        assert remembered.message_id == card.message_id

    async with app.ctx() as ctx:
        await ctx.session.delete(await ctx.session.get(Application, draft_id))
        await submitted(ctx, world, actor)
        profile = await ctx.session.get(TraineeProfile, actor.account_id)
        number = ctx.cipher.decrypt("id_number", profile.id_number_enc)
    app.clock.advance(hours=1)
    await user.press("🔄 刷新")
    card = user.last_bot_message()
    assert "报名状态：已提交" in card.text
    assert "第一志愿录取结果：未录取（尚无结果）" in card.text
    assert "截止时间" not in card.text

    await user.press("🖨 打印报名表")
    sent = user.last_bot_message()
    assert sent.document is not None and sent.document.file_name.endswith(".pdf")
    assert sent.text == "报名表 · 2026年住培招收（第一批）"
    reader = PdfReader(io.BytesIO(sent.document.data))
    content = "".join(page.extract_text() for page in reader.pages)
    for needle in (
        "广东省住院医师规范化培训招收报名表",
        "赵六",
        number[:2] + "*" * 12 + number[-4:],
        "中山大学",
        "内科",
        "广州市红十字会医院",
        "面向社会招收住院医师",
        "trainee@example.com",
    ):
        assert needle in content, needle
    assert number not in content
    fonts = [
        font.get_object()
        for page in reader.pages
        for font in page["/Resources"]["/Font"].values()
        if "WenQuanYi" in str(font.get_object()["/BaseFont"])
    ]
    assert fonts, "the CJK font is not used"
    # the TrueType font travels with the file: no viewer needs a font pack
    assert all("/FontFile2" in f["/FontDescriptor"].get_object() for f in fonts)
