"""Items 5 and 6: 录取结果确认 by the supervising commission (the base's city, or the province for
the bases it supervises), one by one or all of a filtered list, the base being told; 已报到 /
未报到 only after it; exports with full ID numbers for the base, masked for a city reviewer."""

from __future__ import annotations

from sqlalchemy import select

from handlers.staff.callbacks import AppCb
from storage.models import Application, TraineeProfile, Training
from tests import factories
from tests.staff.conftest import (
    Console,
    alert_of,
    deliver_staff,
    forge,
    morning,
    notices,
    saw,
    sheet_rows,
    trainee,
)
from workflow.enums import ApplicationStatus as S


async def accepted(console: Console, name: str, **kw: object) -> Application:
    t = await trainee(console.app, name=name)
    async with console.app.ctx() as ctx:
        return await factories.accepted(ctx, console.app.clock, console.world, t, **kw)


async def reread(console: Console, app_id: int) -> Application:
    async with console.app.ctx() as ctx:
        row = await ctx.session.get(Application, app_id)
        assert row is not None
        return row


async def test_confirmation_by_the_supervisor_then_check_in(console: Console) -> None:
    w = console.world
    x = await accepted(console, "许一")
    z = await accepted(console, "周二")
    y = await accepted(console, "杨三", base=w.base_b)
    a, gz, sz, prov = console.a.user, console.gz.user, console.sz.user, console.prov.user

    # The base was told each acceptance (next morning: the clock stands in the quiet hours),
    # each staff member in their language.
    await console.b.user.command("language")
    await console.b.user.press("English")
    morning(console.app)
    await deliver_staff(console.app)
    assert saw(a, f"学员已接受录取结果：#{x.id} 许一")
    assert saw(console.b.user, f"#{y.id} 杨三 accepted the result")

    # Check-in before confirmation is refused.
    await a.command("checkin", f"{x.id} yes")
    assert "录取结果尚未经上级主管卫健委确认，不能办理报到" in a.last_bot_message().text

    # Each commission sees what it confirms: Guangzhou its city's base, the province base B.
    await gz.command("confirm")
    listing = gz.last_bot_message().text
    assert "许一" in listing and "周二" in listing and "杨三" not in listing
    await sz.command("confirm")
    assert "（没有记录）" in sz.last_bot_message().text
    await sz.command("confirm", str(y.id))
    assert "只有该基地的上级主管卫健委可以确认录取结果" in sz.last_bot_message().text
    await gz.command("confirm", str(y.id))
    assert "只有该基地的上级主管卫健委可以确认录取结果" in gz.last_bot_message().text
    assert (await reread(console, y.id)).status == S.ACCEPTED  # type: ignore[arg-type]
    await a.command("confirm", str(x.id))
    assert "此功能不适用于您的账号角色" in a.last_bot_message().text

    # One by one, from the card.
    await gz.command("confirm")
    await gz.press(f"#{x.id} 许一")
    await gz.press("✅ 录取结果确认")
    assert "录取结果已确认" in gz.last_bot_message().text
    row = await reread(console, x.id)  # type: ignore[arg-type]
    assert row.status == S.CONFIRMED and row.confirmed_by == console.gz.actor.account_id
    assert await notices(console.app, row.account_id, "result_confirmed")

    # All of a filtered list: the province confirms base B's accepted results.
    await prov.command("confirm")
    await prov.press("✅ 确认筛选结果中的全部")
    assert "全部 1 条" in prov.last_bot_message().text
    await prov.press("✅ 确认 1 条")
    assert "已确认 1 条录取结果" in prov.last_bot_message().text
    assert (await reread(console, y.id)).status == S.CONFIRMED  # type: ignore[arg-type]
    # A filter narrows "all": Guangzhou filters by name and confirms only 周二.
    await gz.command("confirm")
    await gz.press("🔎 姓名/证件尾号")
    await gz.send("周")
    await gz.press("✅ 确认筛选结果中的全部")
    await gz.press("✅ 确认 1 条")
    assert (await reread(console, z.id)).status == S.CONFIRMED  # type: ignore[arg-type]

    # The base is told, and its notice opens the record in 学员报到管理.
    await deliver_staff(console.app)
    told = [m for m in a.bot_messages() if "录取结果已由上级主管卫健委确认" in (m.text or "")]
    assert len(told) == 2
    await a.press("打开记录", message=told[0])
    card = a.last_bot_message()
    assert card.button("✅ 已报到") is not None

    # Check-in: 已报到 by button, 未报到 by command; another base is refused.
    await a.command("checkin")
    await a.press(f"#{x.id} 许一")
    await a.press("✅ 已报到")
    assert "已登记为已报到" in a.last_bot_message().text
    row = await reread(console, x.id)  # type: ignore[arg-type]
    assert row.checkin == "reported"
    async with console.app.ctx() as ctx:
        assert await ctx.session.scalar(select(Training.id).where(Training.application_id == x.id))
    assert await notices(console.app, row.account_id, "checked_in")
    await a.command("checkin", f"{z.id} no")
    assert (await reread(console, z.id)).checkin == "not_reported"  # type: ignore[arg-type]
    await console.b.user.command("checkin", f"{x.id} no")  # base B reads English now
    assert "does not belong to your training base" in console.b.user.last_bot_message().text
    pressed = await forge(console.b.user, AppCb(act="in0", id=x.id or 0, kind="chk").pack())
    assert "does not belong to your training base" in alert_of(pressed)
    assert (await reread(console, x.id)).checkin == "reported"  # type: ignore[arg-type]

    # The check-in list filtered by 已报到 exports one row, with the full ID number.
    await a.command("checkin")
    await a.press("🔘 状态")  # 已报到
    assert "共 1 条" in a.last_bot_message().text
    await a.press("📥 导出Excel")
    rows = sheet_rows(a.last_bot_message())
    async with console.app.ctx() as ctx:
        enc = await ctx.session.scalar(
            select(TraineeProfile.id_number_enc).where(TraineeProfile.account_id == x.account_id)
        )
        full = ctx.cipher.decrypt("id_number", enc)  # type: ignore[arg-type]
    assert [(r["姓名"], r["证件号码"], r["报到状态"]) for r in rows] == [("许一", full, "已报到")]

    # A city reviewer's export shows the ID masked.
    await gz.command("confirm")
    await gz.press("🧹 清除筛选")
    await gz.press("📥 导出Excel")
    city_rows = sheet_rows(gz.last_bot_message())
    assert sorted(r["姓名"] for r in city_rows) == ["周二", "许一"]
    assert all(str(r["证件号码"]).startswith("****") for r in city_rows)
    assert all(r["证件号码"] != full for r in city_rows)
