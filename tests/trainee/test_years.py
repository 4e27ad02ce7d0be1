"""§五 in chat: duration and start date after check-in, the derived end date and its limits,
and a reduction with its PDF files (a renamed non-PDF refused) and its review chain."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from storage.models import Document, Reduction, Training
from tests.factories import World, accepted
from tests.harness import BotHarness
from tests.trainee.conftest import last_answer, pdf_bytes
from workflow import admission
from workflow import training as training_wf
from workflow.enums import ReductionStatus


async def test_years_then_a_reduction_with_checked_pdfs_and_its_review_chain(
    app: BotHarness,
    world: World,
    trainee,
    data_dir: Path,  # type: ignore[no-untyped-def]
) -> None:
    user, actor = await trainee(7401)
    await user.command("years")
    assert "培训年限在基地为您办理报到后设置" in user.last_bot_message().text
    async with app.ctx() as ctx:
        application = await accepted(ctx, app.clock, world, actor)
        await admission.confirm_result(ctx, world.city_gz, application.id)
        await admission.check_in(ctx, world.staff_a, application.id, True)
    app.clock.advance(hours=10)  # the next morning: notices are not sent in the quiet hours
    await app.deliver()
    assert "培训基地已为您办理报到" in user.last_bot_message().text
    await user.press("📅 培训年限管理")
    screen = user.last_bot_message().text
    assert "培训年限：未设置" in screen and "三年，2023-07-01 至 2026-06-30" in screen

    await user.press("✏️ 设置培训年限")
    await user.press("2 年")
    await user.send("2026-13-01")
    assert "日期格式不正确" in user.last_bot_message().text
    await user.send("2026-09-01")
    ask_end = user.last_bot_message()
    assert "截止时间默认为 2028-08-31" in ask_end.text
    assert ask_end.buttons[0] == ["使用 2028-08-31"]
    await user.send("2029-01-01")  # later than derived: that is an extension, refused
    assert "结束日期应在 2028-05-31 至 2028-08-31 之间" in user.bot_messages()[-2].text
    await user.press("使用 2028-08-31")
    saved = user.last_bot_message().text
    assert "培训年限：2 年" in saved and "培训截止时间：2028-08-31" in saved
    async with app.ctx() as ctx:
        training = await ctx.session.scalar(select(Training))
        assert (training.duration_years, str(training.start_date), str(training.end_date)) == (
            2,
            "2026-09-01",
            "2028-08-31",
        )

    await user.press("📄 年限减免")
    reduction_screen = user.last_bot_message().text
    assert "学员提交 ⏳ → 基地审核 ▫️" in reduction_screen
    await user.press("📎 上传减免申请表")
    await user.send("here it is")
    assert "请以文件（PDF）形式发送材料" in user.last_bot_message().text
    fake = b"PK\x03\x04" + b"\x00" * 200  # a zip file renamed .pdf
    await user.upload(fake, "减免申请表.pdf")
    assert "这不是有效的 PDF 文件" in user.last_bot_message().text
    form = pdf_bytes("reduction form")
    await user.upload(form, "减免申请表.pdf")
    assert "材料已上传" in user.last_bot_message().text
    assert "减免申请表：减免申请表.pdf" in user.last_bot_message().text
    await user.press("📨 提交审核")
    assert last_answer(user)["text"] == "缺少材料：减免材料。"
    await user.press("📎 上传减免材料")
    await user.upload(pdf_bytes("evidence"), "evidence.pdf")
    await user.press("📨 提交审核")
    chain = user.last_bot_message().text
    assert "学员提交 ✅ → 基地审核 ⏳ → 地市卫健委审核 ▫️" in chain
    assert "上传减免申请表" not in str(user.last_bot_message().buttons)

    async with app.ctx() as ctx:
        reduction = await ctx.session.scalar(select(Reduction))
        assert reduction.status == ReductionStatus.AT_BASE and reduction.years == 2
        docs = (await ctx.session.scalars(select(Document).order_by(Document.id))).all()
        assert [d.kind for d in docs] == ["reduction_form", "evidence"]
        stored = data_dir / "files" / docs[0].path
        assert stored.read_bytes() == form  # on disk, known to the database by its hash
        import hashlib

        assert docs[0].sha256 == hashlib.sha256(form).hexdigest()
        await training_wf.review_reduction(
            ctx, world.staff_a, reduction.id, approve=False, reason="请补充医院证明材料"
        )
    await app.deliver()
    sent_back = user.last_bot_message()
    assert "培训年限减免申请被基地用户退回" in sent_back.text
    assert "请补充医院证明材料" in sent_back.text
    await user.press("📅 培训年限管理")
    assert "已退回" in user.last_bot_message().text
    assert "📨 提交审核" in str(user.last_bot_message().buttons)
