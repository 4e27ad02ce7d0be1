"""Item 7: training years by the base (view, edit, Excel export and import where one bad row
stops the whole file) and the reduction review chain base (with the hospital's proof as PDF) →
city → province → applied by itself, with send-backs and the trainee told at each step."""

from __future__ import annotations

import io
from datetime import date

from openpyxl import load_workbook
from pypdf import PdfWriter
from sqlalchemy import select

from storage.models import Application, Reduction, Training
from tests import factories
from tests.staff.conftest import (
    Console,
    alert_of,
    audit_actions,
    notices,
    saw,
    sheet_rows,
    trainee,
)
from workflow import admission, training
from workflow.actor import Actor
from workflow.enums import DocumentKind


def pdf(pages: int = 1) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


async def in_training(console: Console, name: str, **kw: object) -> tuple[Actor, Application, int]:
    """Accepted, confirmed by the supervisor and checked in by the base."""
    w = console.world
    t = await trainee(console.app, name=name)
    async with console.app.ctx() as ctx:
        app = await factories.accepted(ctx, console.app.clock, w, t, **kw)
        base_b = app.base_id == w.base_b.id
        confirmer = console.prov.actor if base_b else console.gz.actor
        await admission.confirm_result(ctx, confirmer, app.id)
        staff = console.b.actor if base_b else console.a.actor
        await admission.check_in(ctx, staff, app.id, True)
        tid = await ctx.session.scalar(select(Training.id).where(Training.application_id == app.id))
    return t, app, tid  # type: ignore[return-value]


async def training_row(console: Console, tid: int) -> Training:
    async with console.app.ctx() as ctx:
        row = await ctx.session.get(Training, tid)
        assert row is not None
        return row


async def test_years_edit_export_and_import(console: Console) -> None:
    t1, _, tid1 = await in_training(console, "甲一")
    t2, _, tid2 = await in_training(console, "乙二")
    t3, _, tid3 = await in_training(console, "丙三")
    _, _, tid_b = await in_training(console, "丁四", base=console.world.base_b)
    a = console.a.user

    await a.command("trainings")
    listing = a.last_bot_message()
    assert (
        "培训年限管理" in listing.text and "共 3 条" in listing.text and "丁四" not in listing.text
    )
    await a.press(f"#{tid1} 甲一")
    await a.press("✏️ 设置培训年限")
    await a.send("三年")
    assert "格式：年限 开始日期" in a.last_bot_message().text
    await a.send("3 2026-09-01")
    card = a.last_bot_message().text
    assert "培训年限已保存" in card and "3 年 · 2026-09-01 至 2029-08-31" in card
    row = await training_row(console, tid1)
    assert (row.duration_years, row.start_date, row.end_date) == (
        3,
        date(2026, 9, 1),
        date(2029, 8, 31),
    )
    assert await notices(console.app, t1.account_id, "years_set")
    await a.command("setyears", f"{tid2} 5 2026-09-01")
    assert "培训年限只能是 1、2 或 3 年" in a.last_bot_message().text
    await a.command("setyears", f"{tid_b} 3 2026-09-01")
    assert "不属于您所在的培训基地" in a.last_bot_message().text
    assert (await training_row(console, tid_b)).duration_years is None

    # Export the list, edit it, import it: one bad row and nothing of the file is applied.
    await a.command("trainings")
    await a.press("📥 导出Excel")
    export = a.last_bot_message()
    rows = sheet_rows(export)
    assert [r["培训记录ID"] for r in rows] == [tid1, tid2, tid3]
    assert rows[0]["培训年限"] == 3 and rows[1]["培训年限"] is None
    assert export.document is not None
    wb = load_workbook(io.BytesIO(export.document.data))
    ws = wb.worksheets[0]
    ws["F3"], ws["G3"] = 3, date(2026, 9, 1)  # 乙二: fine
    ws["F4"], ws["G4"] = 7, "2026-09-01"  # 丙三: no such duration
    bad = io.BytesIO()
    wb.save(bad)
    await a.press("📤 导入Excel")
    assert saw(a, "有任何一行错误，整个文件都不会导入")
    await a.upload(bad.getvalue(), "years.xlsx", mime_type="application/vnd.ms-excel")
    report = a.last_bot_message().text
    assert "文件有 1 行错误，整个文件都没有导入" in report
    assert "第 4 行：培训年限只能是 1、2 或 3 年。" in report
    assert (await training_row(console, tid2)).duration_years is None
    assert await notices(console.app, t2.account_id, "years_set") == []

    # The question stays open: the corrected file goes in.
    ws["F4"] = 2
    good = io.BytesIO()
    wb.save(good)
    await a.upload(good.getvalue(), "years.xlsx")
    assert "导入完成：更新 2 条，未变 1 条" in a.last_bot_message().text
    assert (await training_row(console, tid2)).duration_years == 3
    row3 = await training_row(console, tid3)
    assert (row3.duration_years, row3.end_date) == (2, date(2028, 8, 31))
    assert await notices(console.app, t3.account_id, "years_set")

    # Not a workbook at all.
    await a.press("📤 导入Excel")
    await a.upload(b"name,years\n", "years.xlsx")
    assert "这不是有效的 Excel" in a.last_bot_message().text


async def test_reduction_review_chain(console: Console) -> None:
    t, _, tid = await in_training(console, "减免甲")
    _, _, tid3 = await in_training(console, "三年乙")
    async with console.app.ctx() as ctx:
        await training.set_years(ctx, console.a.actor, tid, 2, date(2026, 9, 1))
        await training.set_years(ctx, console.a.actor, tid3, 3, date(2026, 9, 1))
    async with console.app.ctx() as ctx:
        red = await training.start_reduction(ctx, t, tid)
        for kind in (DocumentKind.REDUCTION_FORM, DocumentKind.EVIDENCE):
            await training.attach(ctx, t, red.id, kind, f"{kind.value}.pdf", pdf())
        await training.submit_reduction(ctx, t, red.id)
    rid = red.id
    a, gz, sz, prov = console.a.user, console.gz.user, console.sz.user, console.prov.user

    # A reduction is only for a 1- or 2-year training.
    await a.command("reduction", str(tid3))
    assert (
        "只有培训年限为一年或两年的学员可以申请年限减免（当前：3 年）" in a.last_bot_message().text
    )

    # The base: no approval without the hospital's proof; the proof is a PDF.
    await a.command("reductions")
    assert "减免甲" in a.last_bot_message().text
    await a.press(f"#{rid} 减免甲")
    pressed = await a.press("✅ 审核通过")
    assert "缺少材料：医院证明" in alert_of(pressed)
    await a.press("📎 上传医院证明（PDF）")
    await a.upload(b"not a pdf", "proof.pdf")
    assert "这不是有效的 PDF 文件" in a.last_bot_message().text
    await a.upload(pdf(2), "医院证明.pdf")
    assert "医院证明已上传" in a.last_bot_message().text
    assert "医院证明：医院证明.pdf" in a.last_bot_message().text
    await a.press("📄 查看材料")
    sent_docs = [m for m in a.bot_messages() if m.document is not None]
    assert {m.document.file_name for m in sent_docs} >= {  # type: ignore[union-attr]
        "reduction_form.pdf",
        "evidence.pdf",
        "医院证明.pdf",
    }
    await a.command("reduction", str(tid))
    await a.press("✅ 审核通过")
    assert "已审核通过" in a.last_bot_message().text
    assert await notices(console.app, t.account_id, "reduction_progress")

    # Another city cannot see it; Guangzhou sends it back with a reason.
    await sz.command("reductions")
    assert "减免甲" not in sz.last_bot_message().text
    await sz.command("rapprove", str(tid))
    assert "该记录不属于您所在的地市" in sz.last_bot_message().text
    await gz.command("reductions")
    await gz.press(f"#{rid} 减免甲")
    await gz.press("↩️ 退回")
    await gz.send("证明材料不清晰")
    assert "已退回" in gz.last_bot_message().text
    assert "退回（地市卫健委）：证明材料不清晰" in gz.last_bot_message().text
    assert await notices(console.app, t.account_id, "reduction_sent_back")

    # The trainee sends it again; base → city → province; the reduction applies by itself.
    # (The clock moves between the steps: each notice is one per subject and moment.)
    async with console.app.ctx() as ctx:
        await training.submit_reduction(ctx, t, rid)
    console.app.clock.advance(minutes=5)
    await a.command("rapprove", str(tid))
    assert "已审核通过" in a.last_bot_message().text
    console.app.clock.advance(minutes=5)
    await gz.command("rapprove", str(tid))
    console.app.clock.advance(minutes=5)
    await prov.command("reductions")
    await prov.press(f"#{rid} 减免甲")
    await prov.press("✅ 审核通过")
    assert "审核状态：<b>已生效</b>" in prov.last_bot_message().html
    async with console.app.ctx() as ctx:
        reduction = await ctx.session.get(Reduction, rid)
        assert reduction is not None and reduction.status == "applied"
    assert (await training_row(console, tid)).reduction_applied_at is not None
    actions = [a for a, _ in await audit_actions(console.app, "reduction", rid)]
    assert actions.count("approve") == 4 and "send_back" in actions
    assert ("reduction_applied", None) in await audit_actions(console.app, "training", tid)
    progress = await notices(console.app, t.account_id, "reduction_progress")
    assert [n.payload["status"] for n in progress] == [
        "at_city",
        "at_city",
        "at_province",
        "applied",
    ]
