"""Items 8 and 9: allocation offers to not-admitted trainees who accepted reassignment (the
trainee answers in chat; an accepted offer follows the normal path), and the change requests of
§二 filed by the base and decided by the commission; with their refusals."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from bot.notice_buttons import OfferAction
from storage.models import AllocationOffer, Application, ChangeRequest, Training
from tests import factories
from tests.staff.conftest import (
    Console,
    alert_of,
    deliver_staff,
    morning,
    notices,
    press_data,
    saw,
    trainee,
)
from workflow import admission, training
from workflow.actor import Actor
from workflow.enums import ApplicationStatus as S
from workflow.enums import PersonnelType


async def rejected(console: Console, name: str, *, reassign: bool, tg: int) -> tuple[Actor, int]:
    t = await trainee(console.app, name=name, tg=tg)
    await console.app.user(tg).command("start")  # the trainee's chat with the bot
    async with console.app.ctx() as ctx:
        app = await factories.submitted(ctx, console.world, t, reassign=reassign)
        await admission.reject(ctx, console.a.actor, app.id, "非本院线下录取")
    return t, app.id  # type: ignore[return-value]


async def test_allocation_offer_answered_in_chat_then_the_normal_path(console: Console) -> None:
    w = console.world
    n, n_app = await rejected(console, "调剂甲", reassign=True, tg=8801)
    _r, r_app = await rejected(console, "不调剂乙", reassign=False, tg=8802)
    m, m_app = await rejected(console, "调剂丙", reassign=True, tg=8803)
    b = console.b.user

    # Base B, which has free places, sees the candidates of every base who accepted reassignment.
    await b.command("alloc")
    listing = b.last_bot_message().text
    assert "调剂甲" in listing and "调剂丙" in listing and "不调剂乙" not in listing
    await b.press(f"#{n_app} 调剂甲")
    await b.press("🔀 调配")
    places = b.last_bot_message()
    assert "深圳市人民医院 · 内科 (30)" in [row[0] for row in places.buttons]
    assert not any("广州市红十字会医院" in row[0] for row in places.buttons)  # not B's to offer
    await b.press("深圳市人民医院 · 内科 (30)")
    assert "向 #" in b.last_bot_message().text and "深圳市人民医院" in b.last_bot_message().text
    await b.press("✅ 确认调配")
    assert "调配已发出，学员须在 2026-07-03 10:00 前答复" in b.last_bot_message().text
    async with console.app.ctx() as ctx:
        offer = await ctx.session.scalar(
            select(AllocationOffer).where(AllocationOffer.application_id == n_app)
        )
    assert offer is not None and offer.status == "offered" and offer.base_id == w.base_b.id

    # Refusals: a trainee who refused reassignment; a second open offer; a base offering
    # another base's places.
    await b.command("offer", f"{r_app} {w.base_b.id} {w.internal.id}")
    assert "该学员没有选择接受专业调剂，不能调配" in b.last_bot_message().text
    await console.prov.user.command("offer", f"{n_app} {w.base_b.id} {w.internal.id}")
    assert "该学员已有一个待答复的调配" in console.prov.user.last_bot_message().text
    await console.a.user.command("offer", f"{m_app} {w.base_b.id} {w.internal.id}")
    assert "不属于您所在的培训基地" in console.a.user.last_bot_message().text
    # The province offers 调剂丙 a place at base A.
    await console.prov.user.command("offer", f"{m_app} {w.base_a.id} {w.internal.id}")
    assert "调配已发出" in console.prov.user.last_bot_message().text

    # The trainees answer in their chats: one accepts, one refuses.
    await deliver_staff(console.app, "allocation_offer")
    n_chat, m_chat = console.app.user(8801), console.app.user(8803)
    await press_data(n_chat, OfferAction(action="accept", offer_id=offer.id or 0).pack())
    async with console.app.ctx() as ctx:
        m_offer = await ctx.session.scalar(
            select(AllocationOffer).where(AllocationOffer.application_id == m_app)
        )
    await press_data(m_chat, OfferAction(action="refuse", offer_id=m_offer.id or 0).pack())  # type: ignore[union-attr]
    await press_data(m_chat, OfferAction(action="refuse_yes", offer_id=m_offer.id or 0).pack())  # type: ignore[union-attr]
    async with console.app.ctx() as ctx:
        app_n = await ctx.session.get(Application, n_app)
        m_offer = await ctx.session.get(AllocationOffer, m_offer.id)  # type: ignore[union-attr]
    assert app_n is not None and app_n.status == S.ADMITTED and app_n.base_id == w.base_b.id
    assert m_offer is not None and m_offer.status == "refused"

    # Base B is told, opens the record from the notice, and sends the result as usual.
    await deliver_staff(console.app)
    assert saw(b, "学员接受了调配")
    await b.press("打开记录")
    assert "基地已录取（未发送）" in b.last_bot_message().text
    await b.press("📤 发送录取结果")
    assert "录取结果已发送" in b.last_bot_message().text
    async with console.app.ctx() as ctx:
        assert (await ctx.session.get(Application, n_app)).status == S.SENT  # type: ignore[union-attr]
    assert await notices(console.app, n.account_id, "result_sent")
    assert m  # 调剂丙 keeps not admitted
    async with console.app.ctx() as ctx:
        assert (await ctx.session.get(Application, m_app)).status == S.NOT_ADMITTED  # type: ignore[union-attr]


async def confirmed(
    console: Console, name: str, ptype: PersonnelType, *, start: date | None = None
) -> tuple[Actor, int]:
    t = await trainee(console.app, name=name)
    async with console.app.ctx() as ctx:
        app = await factories.accepted(
            ctx, console.app.clock, console.world, t, personnel_type=ptype
        )
        await admission.confirm_result(ctx, console.gz.actor, app.id)
        if start is not None:
            await admission.check_in(ctx, console.a.actor, app.id, True)
            tid = await ctx.session.scalar(
                select(Training.id).where(Training.application_id == app.id)
            )
            await training.set_years(ctx, console.a.actor, tid, 3, start)  # type: ignore[arg-type]
    return t, app.id  # type: ignore[return-value]


async def change_rows(console: Console, app_id: int) -> list[ChangeRequest]:
    async with console.app.ctx() as ctx:
        rows = await ctx.session.scalars(
            select(ChangeRequest)
            .where(ChangeRequest.application_id == app_id)
            .order_by(ChangeRequest.id)
        )
        return list(rows.all())


async def test_change_requests_filed_by_the_base_and_decided_by_the_commission(
    console: Console,
) -> None:
    w = console.world
    _m, m_app = await confirmed(console, "专硕甲", PersonnelType.MASTERS)
    s, s_app = await confirmed(console, "社会乙", PersonnelType.SOCIAL, start=date(2026, 9, 1))
    _p, p_app = await confirmed(console, "未报到丙", PersonnelType.SOCIAL)
    a, gz = console.a.user, console.gz.user

    await a.command("changes")
    assert "本基地的申请" in a.last_bot_message().text
    await a.press("➕ 新建申请")
    await a.press(f"#{m_app} 专硕甲")
    await a.press("📝 学员信息变更")
    await a.press("人员类型")
    pressed = await a.press("本单位住院医师")
    assert "并轨专硕不可变更" in alert_of(pressed)
    await a.command("change", f"{m_app} personnel_type own_unit")
    assert "并轨专硕不可变更" in a.last_bot_message().text
    assert await change_rows(console, m_app) == []

    # 选送单位 by button and a typed value; 延期 and a base change by typed command.
    await a.command("changes")
    await a.press("➕ 新建申请")
    await a.press(f"#{s_app} 社会乙")
    await a.press("📝 学员信息变更")
    await a.press("选送单位")
    await a.send("深圳市第二人民医院")
    assert "变更申请已提交" in a.last_bot_message().text
    await a.command("change", f"{s_app} extend 2030-08-31")
    assert "变更申请已提交" in a.last_bot_message().text
    await a.command("change", f"{p_app} base {w.base_b.id}")
    assert "只有当年度在培学员可以变更培训基地。其他学员需由原基地办理退培，再由新基地重新入培" in (
        a.last_bot_message().text
    )
    await a.command("change", f"{s_app} base {w.base_b.id}")
    assert "变更申请已提交" in a.last_bot_message().text
    # 退培 by buttons.
    await a.command("changes")
    await a.press("➕ 新建申请")
    await a.press(f"#{p_app} 未报到丙")
    await a.press("⏸ 培训状态变更")
    await a.press("退培")
    pressed = await a.press("📝 提交申请")
    assert "该学员尚未报到入培" in alert_of(pressed)
    await console.b.user.command("change", f"{s_app} sending_unit 某单位")
    assert "不属于您所在的培训基地" in console.b.user.last_bot_message().text
    filed = await change_rows(console, s_app)
    assert [(r.kind, r.new_value, r.status) for r in filed] == [
        ("sending_unit", "深圳市第二人民医院", "pending"),
        ("extend", "2030-08-31", "pending"),
        ("base", str(w.base_b.id), "pending"),
    ]

    # The commission decides: Shenzhen may not; Guangzhou approves, refuses with a reason.
    await console.sz.user.command("decide", f"{filed[0].id} yes")
    assert "该记录不属于您所在的地市" in console.sz.user.last_bot_message().text
    await gz.command("changes")
    pending = gz.last_bot_message().text
    assert "变更申请审核" in pending and "共 3 条" in pending
    assert "深圳市第二人民医院" in pending and "广州市红十字会医院 → 深圳市人民医院" in pending
    await gz.press(f"#{filed[1].id} 社会乙 · 延期")
    await gz.press("✅ 批准")
    assert "已批准" in gz.last_bot_message().text
    await gz.command("changes")
    await gz.press(f"#{filed[0].id} 社会乙 · 选送单位")
    await gz.press("❌ 驳回")
    await gz.send("请提供选送单位证明")
    assert "已驳回" in gz.last_bot_message().text
    await gz.command("decide", f"{filed[2].id} yes")
    assert "已批准" in gz.last_bot_message().text

    decided = await change_rows(console, s_app)
    assert [(r.status, r.reason) for r in decided] == [
        ("refused", "请提供选送单位证明"),
        ("approved", None),
        ("approved", None),
    ]
    async with console.app.ctx() as ctx:
        app_s = await ctx.session.get(Application, s_app)
        tr = await ctx.session.scalar(select(Training).where(Training.application_id == s_app))
    assert app_s is not None and app_s.base_id == w.base_b.id
    assert tr is not None and tr.end_date == date(2030, 8, 31) and tr.status == "extended"
    assert len(await notices(console.app, s.account_id, "change_decided")) == 3

    # The base is told of each decision (next morning: the clock stands in the quiet hours).
    morning(console.app)
    await deliver_staff(console.app)
    assert saw(a, f"变更申请 #{filed[1].id}（社会乙 · 延期）已批准")
    assert saw(a, f"变更申请 #{filed[0].id}（社会乙 · 选送单位）被驳回。原因：请提供选送单位证明")
