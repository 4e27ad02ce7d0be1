"""Items 3 and 4: the base's pre-audit queue (filters, pages, 预录取 / 不录取 / 取消预录取) and
admission (基地录取 one per action, 发送录取结果 to at most 20 by multi-select, 取消录取 only in
the lock period), with the refusals: another base's trainee by command and by forged button, a
21st selection, a cancel after the lock period. And the Excel export of a filtered list."""

from __future__ import annotations

from sqlalchemy import select

from handlers.staff.callbacks import AppCb
from storage.models import Application, TraineeProfile
from tests.staff.conftest import (
    Console,
    alert_of,
    applied,
    audit_actions,
    cn,
    forge,
    notices,
    sheet_rows,
)
from workflow import admission
from workflow.enums import ApplicationStatus as S


async def status_of(console: Console, app_id: int) -> Application:
    async with console.app.ctx() as ctx:
        row = await ctx.session.get(Application, app_id)
        assert row is not None
        return row


async def test_pre_audit_queue_filters_pages_and_actions(console: Console) -> None:
    w, staff = console.world, console.a
    ids = [(await applied(console, f"张{cn(i)}"))[1] for i in range(9)]
    await applied(console, "儿科甲", specialty=w.pediatrics)
    _, other_base = await applied(console, "深圳乙", base=w.base_b)
    user = staff.user

    await user.command("queue")
    page = user.last_bot_message()
    assert "学员志愿预审核" in page.text
    assert "只对本基地线下已录取的学员做“预录取”；其他学员请做“不录取”" in page.text
    assert "共 10 条 · 第 1/2 页" in page.text
    assert "深圳乙" not in page.text
    await user.press("下一页 ▶️")
    assert "第 2/2 页" in user.last_bot_message().text
    assert "儿科甲" in user.last_bot_message().text

    # Filter by specialty, then by name, then by the last digits of the ID number.
    await user.press("🩺 专业")
    await user.press("0200 儿科")
    assert "共 1 条" in user.last_bot_message().text and "儿科甲" in user.last_bot_message().text
    await user.press("🧹 清除筛选")
    await user.press("🔎 姓名/证件尾号")
    await user.send("张零三")
    listing = user.last_bot_message()
    assert "共 1 条" in listing.text and f"#{ids[3]}" in listing.text
    async with console.app.ctx() as ctx:
        tail = await ctx.session.scalar(
            select(TraineeProfile.id_tail)
            .join(Application, Application.account_id == TraineeProfile.account_id)
            .where(Application.id == ids[5])
        )
    await user.press("🔎 姓名/证件尾号")
    await user.send(tail[-3:])  # type: ignore[index]
    assert f"#{ids[5]}" in user.last_bot_message().text
    await user.press("🧹 清除筛选")

    # 预录取 from the card; the trainee is told; the audit log has it.
    await user.press(f"#{ids[0]} 张零零")
    card = user.last_bot_message()
    assert "状态：<b>已提交</b>" in card.html and "****" in card.text
    await user.press("✅ 预录取")
    assert "已预录取" in user.last_bot_message().text
    assert (await status_of(console, ids[0])).status == S.PRE_ADMITTED
    assert await notices(console.app, (await status_of(console, ids[0])).account_id, "pre_admitted")
    assert ("pre_admit", staff.actor.account_id) in await audit_actions(
        console.app, "application", ids[0]
    )
    # A repeated press (the same callback again) does no harm and says why.
    again = await forge(user, AppCb(act="pre", id=ids[0], kind="pre").pack())
    assert "当前状态为“预录取”" in alert_of(again)

    # 取消预录取: back to the queue, the trainee is told.
    await user.press("↩️ 取消预录取")
    assert (await status_of(console, ids[0])).status == S.SUBMITTED
    assert await notices(
        console.app, (await status_of(console, ids[0])).account_id, "pre_admission_cancelled"
    )

    # 不录取 needs a reason: by button (asked for) and by typed command.
    await user.press("❌ 不录取")
    assert "请输入对" in user.last_bot_message().text
    await user.send("非本院线下录取学员")
    card = user.last_bot_message()
    assert "不录取原因：非本院线下录取学员" in card.text
    row = await status_of(console, ids[0])
    assert row.status == S.NOT_ADMITTED and row.not_admitted_reason == "非本院线下录取学员"
    assert await notices(console.app, row.account_id, "not_admitted")
    await user.command("reject", str(ids[1]))
    assert "请填写原因" in user.last_bot_message().text
    assert (await status_of(console, ids[1])).status == S.SUBMITTED
    await user.command("preadmit", str(ids[1]))
    assert "已预录取" in user.last_bot_message().text

    # Staff of base B on base A's trainee: typed command, forged button, forged card: refused.
    other = console.b.user
    await other.command("preadmit", str(ids[2]))
    assert "该学员不属于您所在的培训基地，无权操作" in other.last_bot_message().text
    await other.command("reject", f"{ids[2]} 不要")
    assert "该学员不属于您所在的培训基地" in other.last_bot_message().text
    await other.command("queue")
    assert (
        "张零二" not in other.last_bot_message().text and "深圳乙" in other.last_bot_message().text
    )
    pressed = await forge(other, AppCb(act="pre", id=ids[2], kind="pre").pack())
    assert "该学员不属于您所在的培训基地" in alert_of(pressed)
    pressed = await forge(other, AppCb(act="card", id=ids[2], kind="pre").pack())
    assert "该学员不属于您所在的培训基地" in alert_of(pressed)
    assert (await status_of(console, ids[2])).status == S.SUBMITTED
    # …while B's own applicant is B's to pre-audit.
    await other.command("preadmit", str(other_base))
    assert (await status_of(console, other_base)).status == S.PRE_ADMITTED


async def test_export_holds_the_filtered_rows_with_full_ids_for_the_base(console: Console) -> None:
    w, user = console.world, console.a.user
    await applied(console, "内科一")
    await applied(console, "内科二")
    _, peds = await applied(console, "儿科一", specialty=w.pediatrics)
    await user.command("queue")
    await user.press("🩺 专业")
    await user.press("0100 内科")
    await user.press("📥 导出Excel")
    doc = user.last_bot_message()
    assert "已导出 2 条记录" in doc.text
    rows = sheet_rows(doc)
    assert sorted(r["姓名"] for r in rows) == ["内科一", "内科二"]
    assert {r["培训专业"] for r in rows} == {"内科"}
    async with console.app.ctx() as ctx:
        enc = await ctx.session.scalar(
            select(TraineeProfile.id_number_enc).where(TraineeProfile.name == "内科一")
        )
        full = ctx.cipher.decrypt("id_number", enc)  # type: ignore[arg-type]
    assert {r["证件号码"] for r in rows if r["姓名"] == "内科一"} == {full}
    # The status filter narrows the export too.
    await user.press("🔘 状态")  # → 已提交
    await user.command("preadmit", str(peds))
    await user.command("queue")
    await user.press("📥 导出Excel")
    assert len(sheet_rows(user.last_bot_message())) == 2  # 内科 + 已提交; 儿科 is filtered out


async def test_admission_send_at_most_twenty_and_cancel_only_in_lock_period(
    console: Console,
) -> None:
    staff = console.a
    ids = [(await applied(console, f"录取{cn(i)}"))[1] for i in range(22)]
    async with console.app.ctx() as ctx:
        for app_id in ids:
            await admission.pre_admit(ctx, staff.actor, app_id)
        for app_id in ids[1:]:
            await admission.admit(ctx, staff.actor, app_id)
    user = staff.user

    # 基地录取: one trainee per action, from the card.
    await user.command("admission")
    listing = user.last_bot_message()
    assert "每次最多 20 名" in listing.text and "共 22 条" in listing.text
    await user.press(f"#{ids[0]} 录取零零")
    assert "未点击“发送录取结果”" in user.last_bot_message().text
    await user.press("🏥 基地录取")
    assert (await status_of(console, ids[0])).status == S.ADMITTED
    await user.press("⬅️ 返回列表")

    # Select 20 with the ☐ buttons, page after page.
    for _ in range(20):
        if user.last_bot_message().button("☐") is None:
            await user.press("下一页 ▶️")
        await user.press("☐")
    listing = user.last_bot_message()
    assert "已选择发送录取结果：20/20" in listing.text
    assert listing.button("📤 发送录取结果（20/20）") is not None
    if listing.button("☐") is None:
        await user.press("下一页 ▶️")
    refused_pick = await user.press("☐")
    assert "每次最多只能选择 20 名学员" in alert_of(refused_pick)
    assert "已选择发送录取结果：20/20" in user.last_bot_message().text

    # A typed send of 21 is refused as a whole.
    await user.command("send", " ".join(str(i) for i in ids[:21]))
    assert "每次最多只能向 20 名学员发送录取结果（已选择 21 名）" in user.last_bot_message().text
    async with console.app.ctx() as ctx:
        sent = await ctx.session.scalar(
            select(Application.id).where(Application.sent_at.is_not(None)).limit(1)
        )
    assert sent is None

    await user.command("admission")
    await user.press("📤 发送录取结果（20/20）")
    assert "已向 20 名学员发送录取结果" in user.last_bot_message().text
    async with console.app.ctx() as ctx:
        rows = list(
            (await ctx.session.scalars(select(Application).where(Application.id.in_(ids)))).all()
        )
    sent_rows = [r for r in rows if r.status == S.SENT]
    assert len(sent_rows) == 20 and all(r.sent_at == console.app.clock.now() for r in sent_rows)
    for r in sent_rows[:3]:
        assert await notices(console.app, r.account_id, "result_sent")
    # Each record shows 是否已发送 and 发送录取结果时间; the status filter tells them apart.
    assert "已发送 2026-07-01 10:00" in user.last_bot_message().text
    await user.press("🔘 状态")  # 预录取
    await user.press("🔘 状态")  # 已录取未发送
    await user.press("🔘 状态")  # 已发送
    assert "共 20 条" in user.last_bot_message().text
    await user.press("🔘 状态")  # 未发送
    assert "共 2 条" in user.last_bot_message().text

    # 取消录取 inside the lock period: back to pre-admitted, the result must be sent again.
    target = sent_rows[0]
    await user.command("unadmit", str(target.id))
    card = user.last_bot_message()
    assert "已取消录取" in card.text and "重新基地录取并发送录取结果" in card.text
    after = await status_of(console, target.id)  # type: ignore[arg-type]
    assert after.status == S.PRE_ADMITTED and after.sent_at is None
    assert await notices(console.app, after.account_id, "result_cancelled")

    # After the lock period: refused, by command and by (stale) button.
    console.app.clock.advance(hours=13)
    late = sent_rows[1]
    await user.command("unadmit", str(late.id))
    assert "已超过锁定期" in user.last_bot_message().text
    pressed = await forge(user, AppCb(act="unadm", id=late.id or 0, kind="adm").pack())
    assert "已超过锁定期" in alert_of(pressed)
    assert (await status_of(console, late.id)).status == S.SENT  # type: ignore[arg-type]
    # The card no longer offers the cancel button after the lock period.
    await forge(user, AppCb(act="card", id=late.id or 0, kind="adm").pack())
    assert "是否已发送：是" in user.last_bot_message().text
    assert user.last_bot_message().button("↩️ 取消录取") is None
