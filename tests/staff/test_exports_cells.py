"""Every Excel file the staff get, opened as an office opens it: times are date-time cells in
Asia/Shanghai with a readable format, ID numbers are text, the header has a filter and the
columns are as wide as their content; the hand-over speaks Chinese, its JSON keeps the codes."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from openpyxl.utils import get_column_letter
from sqlalchemy import select

from bot.exports import display_width
from bot.i18n import Translator
from storage.models import Application, TraineeProfile
from tests.conftest import SHANGHAI
from tests.staff.conftest import Console, workbook
from tests.staff.test_handover_stats_history import some_records
from tests.staff.test_years import in_training
from workflow.handover import FIELDS

DATETIME = "yyyy-mm-dd hh:mm"


def _column(ws: Any, name: str) -> list[Any]:
    header = [c.value for c in ws[1]]
    index = header.index(name) + 1
    return [ws.cell(row=r, column=index) for r in range(2, ws.max_row + 1)]


def _shown_width(cell: Any) -> int:
    return 10 if cell.is_date and cell.number_format == "yyyy-mm-dd" else display_width(cell.value)


def _check_sheet(ws: Any) -> list[str]:
    header = [c.value for c in ws[1]]
    assert ws.auto_filter.ref == f"A1:{get_column_letter(len(header))}{ws.max_row}"
    assert ws.freeze_panes == "A2"
    for i, name in enumerate(header, start=1):
        letter = get_column_letter(i)
        width = ws.column_dimensions[letter].width
        longest = max(_shown_width(c) for c in ws[letter])
        assert min(longest, 58) <= width <= 60, (name, width, longest)
    return header


def _local(moment: datetime) -> datetime:
    return moment.astimezone(SHANGHAI).replace(tzinfo=None, microsecond=0)


async def _full_ids(console: Console) -> dict[str, str]:
    async with console.app.ctx() as ctx:
        rows = await ctx.session.execute(select(TraineeProfile.name, TraineeProfile.id_number_enc))
        return {name: ctx.cipher.decrypt("id_number", enc) for name, enc in rows if enc}


async def test_application_and_years_exports(console: Console) -> None:
    await some_records(console)
    _, trained, tid = await in_training(console, "在培己")
    a = console.a.user
    full = await _full_ids(console)

    await a.command("queue")
    await a.press("📥 导出Excel")
    ws = workbook(a.last_bot_message()).worksheets[0]
    _check_sheet(ws)
    names = [c.value for c in _column(ws, "姓名")]
    submitted = _column(ws, "提交时间")
    async with console.app.ctx() as ctx:
        stored = dict(
            (
                await ctx.session.execute(
                    select(TraineeProfile.name, Application.submitted_at).join(
                        Application, Application.account_id == TraineeProfile.account_id
                    )
                )
            ).all()
        )
    assert names and len(submitted) == len(names)
    for name, cell in zip(names, submitted, strict=True):
        assert isinstance(cell.value, datetime) and cell.number_format == DATETIME
        assert cell.value.replace(microsecond=0) == _local(stored[name])
    for name, cell in zip(names, _column(ws, "证件号码"), strict=True):
        assert cell.data_type == "s" and cell.value == full[name]
    about = workbook(a.last_bot_message()).worksheets[1]
    assert isinstance(about["B4"].value, datetime) and about["B4"].number_format == DATETIME

    await a.command("checkin")
    await a.press("📥 导出Excel")
    ws = workbook(a.last_bot_message()).worksheets[0]
    _check_sheet(ws)
    sent = [c for c in _column(ws, "发送录取结果时间") if c.value is not None]
    assert sent and all(isinstance(c.value, datetime) for c in sent)
    assert all(c.number_format == DATETIME for c in sent)
    assert trained.sent_at is not None
    assert _local(trained.sent_at) in [c.value.replace(microsecond=0) for c in sent]

    await a.command("setyears", f"{tid} 3 2026-09-01")
    await a.command("trainings")
    await a.press("📥 导出Excel")
    ws = workbook(a.last_bot_message()).worksheets[0]
    _check_sheet(ws)
    ids = _column(ws, "证件号码")
    assert [c.value for c in ids] == [full["在培己"]] and ids[0].data_type == "s"
    start, end = _column(ws, "培训开始时间")[0], _column(ws, "培训截止时间")[0]
    assert start.is_date and start.value == datetime(2026, 9, 1)
    assert end.is_date and end.value == datetime(2029, 8, 31)
    assert start.number_format == end.number_format == "yyyy-mm-dd"


async def test_handover_for_people_and_json_for_machines(console: Console) -> None:
    ids = await some_records(console)
    prov = console.prov.user
    await prov.command("handover")
    docs = [m for m in prov.bot_messages() if m.document is not None]
    xlsx = next(m for m in docs if m.document.file_name.endswith(".xlsx"))  # type: ignore[union-attr]
    js = next(m for m in docs if m.document.file_name.endswith(".json"))  # type: ignore[union-attr]
    book = workbook(xlsx)
    ws = book.worksheets[0]
    zh = Translator("zh-CN")
    header = _check_sheet(ws)
    assert header == [zh(f"offices.handover.column.{f}") for f in FIELDS]
    assert header[:4] == ["报名编号", "姓名", "证件类型", "证件号码"]
    assert not any("_" in h for h in header)
    rows = {r[0]: dict(zip(header, r, strict=True)) for r in ws.iter_rows(2, values_only=True)}
    accepted = rows[ids["acc"]]
    assert accepted["报名状态"] == "学员已接受" and accepted["证件类型"] == "居民身份证"
    assert accepted["性别"] in {"男", "女"} and accepted["人员类型"] == "面向社会招收住院医师"
    assert rows[ids["pre"]]["报名状态"] == "预录取"
    for cell in _column(ws, "录取结果发送时间") + _column(ws, "最后变更时间"):
        if cell.value is not None:
            assert isinstance(cell.value, datetime) and cell.number_format == DATETIME
    birth = _column(ws, "出生日期")
    assert all(c.is_date and c.number_format == "yyyy-mm-dd" for c in birth if c.value)
    assert all(c.data_type == "s" and len(c.value) == 18 for c in _column(ws, "证件号码"))

    payload = json.loads(js.document.data)  # type: ignore[union-attr]
    by_id = {r["application_id"]: r for r in payload["rows"]}
    machine = by_id[ids["acc"]]
    assert machine["status"] == "accepted" and machine["id_type"] == "resident_id"
    assert machine["personnel_type"] == "social" and payload["fields"] == list(FIELDS)
    sent = datetime.fromisoformat(machine["sent_at"])
    column = _column(ws, "录取结果发送时间")
    shown = next(c for c in column if ws.cell(c.row, 1).value == ids["acc"])
    assert shown.value.replace(microsecond=0) == _local(sent)
    assert date.fromisoformat(machine["birth_date"]) == accepted["出生日期"].date()
    about = book.worksheets[1]
    assert about.title == "说明" and about["A3"].value == "记录数" and about["B3"].value == 5
