"""Items 10-12: the national platform hand-over (the province's command and `zhupei handover`),
the numbers per specialty as a table and a chart photo, and /history within the reader's scope."""

from __future__ import annotations

import asyncio
import io
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.engine import make_url

from bot import cli
from storage import migrate
from storage.crypto import FieldCipher
from storage.db import Database, async_url
from storage.models import Application, Handover, TraineeProfile
from tests import factories
from tests.conftest import TEST_KEY
from tests.staff.conftest import Console, applied, saw, trainee
from workflow import admission
from workflow.clock import FrozenClock
from workflow.context import Ctx

PNG = b"\x89PNG\r\n\x1a\n"


async def some_records(console: Console) -> dict[str, int]:
    w = console.world
    _, pre = await applied(console, "预录取甲")
    _, sub = await applied(console, "已提交乙")
    _, peds = await applied(console, "儿科丙", specialty=w.pediatrics)
    _, at_b = await applied(console, "深圳丁", base=w.base_b)
    t = await trainee(console.app, name="接受戊")
    async with console.app.ctx() as ctx:
        acc = await factories.accepted(ctx, console.app.clock, w, t)
        await admission.pre_admit(ctx, console.a.actor, pre)
    return {"pre": pre, "sub": sub, "peds": peds, "at_b": at_b, "acc": acc.id}  # type: ignore[dict-item]


async def test_stats_table_and_chart_per_scope(console: Console) -> None:
    ids = await some_records(console)
    a, gz, prov = console.a.user, console.gz.user, console.prov.user
    batch = console.world.batch

    await a.command("stats")
    await a.press(batch.name)
    table = next(m for m in reversed(a.bot_messages()) if "招录数据统计" in (m.text or ""))
    assert "范围：广州市红十字会医院" in table.text
    assert "<pre>" in table.html
    lines = table.text.splitlines()
    assert "各列：计划 / 报名 / 预录取 / 录取 / 已发送 / 已接受 / 已确认" in lines
    internal = lines[lines.index("内科") + 1].split()
    assert internal == ["30", "3", "2", "1", "1", "1", "0"]
    peds = lines[lines.index("儿科") + 1].split()
    assert peds == ["1", "1", "0", "0", "0", "0", "0"]
    photo = a.last_bot_message()
    assert photo.photo is not None and photo.photo.data.startswith(PNG)
    assert "各专业招录进度" in (photo.text or "")
    assert len(photo.photo.data) > 20_000  # a drawn chart, not an empty canvas

    await prov.command("stats", str(batch.id))
    text = next(m for m in reversed(prov.bot_messages()) if "招录数据统计" in (m.text or "")).text
    lines = text.splitlines()
    assert "范围：全省" in text
    assert lines[lines.index("内科") + 1].split() == ["60", "4", "2", "1", "1", "1", "0"]
    await gz.command("stats", str(batch.id))
    text = next(m for m in reversed(gz.bot_messages()) if "招录数据统计" in (m.text or "")).text
    lines = text.splitlines()
    assert lines[lines.index("内科") + 1].split()[:2] == ["30", "3"]
    assert ids


async def test_history_is_shown_within_scope(console: Console) -> None:
    ids = await some_records(console)
    acc = ids["acc"]
    a, b, gz, sz, prov = (
        s.user for s in (console.a, console.b, console.gz, console.sz, console.prov)
    )
    await a.command("history", f"app {acc}")
    text = a.last_bot_message().text
    assert f"操作历史 · 报名记录 #{acc}" in text
    for action in ("预录取", "基地录取", "发送录取结果", "学员接受"):
        assert action in text
    assert "base staff（基地用户）" in text and "已提交 → 预录取" in text
    await gz.command("history", f"app {acc}")
    assert "发送录取结果" in gz.last_bot_message().text
    await prov.command("history", f"app {acc}")
    assert "学员接受" in prov.last_bot_message().text
    await b.command("history", f"app {acc}")
    assert "该学员不属于您所在的培训基地" in b.last_bot_message().text
    await sz.command("history", f"app {acc}")
    assert "该记录不属于您所在的地市" in sz.last_bot_message().text
    await a.command("history", "foo 1")
    assert "无法识别的记录类型" in a.last_bot_message().text
    await a.command("history")
    assert "/history 类型 ID" in a.last_bot_message().text
    # The card's button shows the same log.
    await a.command("queue")
    await a.press(f"#{ids['pre']} 预录取甲")
    await a.press("📜 历史记录")
    assert f"操作历史 · 报名记录 #{ids['pre']}" in a.last_bot_message().text
    assert "王主任（基地用户） · 预录取 已提交 → 预录取" in a.last_bot_message().text


async def test_handover_by_the_province_then_from_where_it_stopped(console: Console) -> None:
    ids = await some_records(console)
    prov = console.prov.user
    await console.a.user.command("handover")
    assert "此功能不适用于您的账号角色" in console.a.user.last_bot_message().text

    await prov.command("handover")
    assert saw(prov, "国家平台数据交接完成：5 条记录（首次交接 至")
    docs = [m for m in prov.bot_messages() if m.document is not None]
    xlsx = next(m for m in docs if m.document.file_name.endswith(".xlsx"))  # type: ignore[union-attr]
    js = next(m for m in docs if m.document.file_name.endswith(".json"))  # type: ignore[union-attr]
    ws = load_workbook(io.BytesIO(xlsx.document.data)).worksheets[0]  # type: ignore[union-attr]
    header, *rows = list(ws.iter_rows(values_only=True))
    records = [dict(zip(header, r, strict=True)) for r in rows]
    assert sorted(r["报名编号"] for r in records) == sorted(ids.values())
    payload = json.loads(js.document.data)  # type: ignore[union-attr]
    assert payload["count"] == 5 and payload["since"] is None
    async with console.app.ctx() as ctx:
        enc, account = (
            await ctx.session.execute(
                select(TraineeProfile.id_number_enc, Application.account_id)
                .join(Application, Application.account_id == TraineeProfile.account_id)
                .where(Application.id == ids["acc"])
            )
        ).one()
        full = ctx.cipher.decrypt("id_number", enc)
    by_id = {r["application_id"]: r for r in payload["rows"]}
    assert by_id[ids["acc"]]["id_number"] == full and by_id[ids["acc"]]["status"] == "accepted"
    assert account

    # The next hand-over starts where this one stopped: only what changed since.
    console.app.clock.advance(hours=1)
    await console.a.user.command("preadmit", str(ids["peds"]))
    console.app.clock.advance(minutes=1)
    mark = prov.mark()
    await prov.command("handover")
    new = prov.bot_messages_since(mark)
    assert any("国家平台数据交接完成：1 条记录" in (m.text or "") for m in new)
    js2 = next(m for m in new if m.document and m.document.file_name.endswith(".json"))
    rows2 = json.loads(js2.document.data)["rows"]  # type: ignore[union-attr]
    assert [(r["application_id"], r["status"]) for r in rows2] == [(ids["peds"], "pre_admitted")]
    async with console.app.ctx() as ctx:
        handovers = list((await ctx.session.scalars(select(Handover).order_by(Handover.id))).all())
    assert [h.rows for h in handovers] == [5, 1]
    assert handovers[1].since == handovers[0].until


@pytest.fixture
def cli_url(tmp_path: Path) -> Iterator[str]:
    """An empty database of the run's backend, for the command line to migrate."""
    from tests.cli.conftest import _pg_admin, pg_admin_url

    admin = pg_admin_url()
    if admin is None:
        yield f"sqlite:///{tmp_path / 'cli.db'}"
        return
    name = f"zhupei_staff_cli_{uuid.uuid4().hex[:10]}"
    asyncio.run(_pg_admin(admin, f'CREATE DATABASE "{name}"'))
    yield make_url(async_url(admin)).set(database=name).render_as_string(hide_password=False)
    asyncio.run(_pg_admin(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_cli_handover_writes_both_files_and_records_it(tmp_path: Path, cli_url: str) -> None:
    from tests.cli.conftest import make_settings

    settings = make_settings(cli_url, tmp_path)
    migrate.upgrade(settings.resolved_database_url)
    clock = FrozenClock(datetime.now(UTC) - timedelta(hours=2))

    async def seed() -> int:
        db = Database(settings.resolved_database_url)
        try:
            async with db.transaction() as session:
                ctx = Ctx(session=session, clock=clock, cipher=FieldCipher(TEST_KEY))
                world = await factories.build_world(ctx)
                t = await factories.make_trainee(ctx, name="命令行")
                app = await factories.submitted(ctx, world, t)
                await admission.pre_admit(ctx, world.staff_a, app.id)
                return app.id  # type: ignore[return-value]
        finally:
            await db.dispose()

    app_id = asyncio.run(seed())
    out = tmp_path / "handover"
    assert cli.main(["handover", "--out", str(out)], settings=settings) == 0
    files = sorted(p.name for p in out.iterdir())
    assert len(files) == 2 and files[0].endswith(".json") and files[1].endswith(".xlsx")
    payload = json.loads((out / files[0]).read_text(encoding="utf-8"))
    assert [r["application_id"] for r in payload["rows"]] == [app_id]
    ws = load_workbook(out / files[1]).worksheets[0]
    assert ws.max_row == 2 and ws["A2"].value == app_id
    assert (out / files[0]).stat().st_mode & 0o777 == 0o600
    # Nothing changed since: the next hand-over is empty.
    assert cli.main(["handover", "--out", str(out)], settings=settings) == 0
    newest = max((p for p in out.iterdir() if p.suffix == ".json"), key=lambda p: p.name)
    assert json.loads(newest.read_text(encoding="utf-8"))["count"] == 0
