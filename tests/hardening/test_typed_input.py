"""Typed answers in the dialogs: control and bidi-override characters refused with the reason,
text longer than its column refused at its own step, full-width digits read as digits, HTML
specials, emoji and right-to-left text kept and shown as typed; nothing already saved is lost."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from handlers.staff.callbacks import AppCb
from storage.models import Account, Application, EducationRecord, FsmRecord, TraineeProfile
from tests import factories
from tests.factories import make_id
from tests.hardening.test_forged_presses import press
from tests.hardening.test_validators import full_width
from tests.harness import BotHarness
from tests.staff.conftest import enrol
from workflow import profile
from workflow.enums import ApplicationStatus, Role


async def _dialog_data(app: BotHarness, user_id: int) -> dict:  # type: ignore[type-arg]
    async with app.ctx() as ctx:
        rows = (await ctx.session.scalars(select(FsmRecord))).all()
    mine = [r for r in rows if f":{user_id}:" in f"{r.key}:"]
    return dict(mine[0].data) if mine and mine[0].data else {}


async def test_a_name_with_a_bidi_override_is_refused_with_the_reason(app: BotHarness) -> None:
    user = app.user(7301)
    await user.command("start")
    await user.press("📝 学员注册")
    await user.press("住院医师规范化培训")
    for bad, shown in (("李\u202e雷", "U+202E"), ("李\x00雷", "U+0000"), ("李\x07雷", "U+0007")):
        await user.send(bad)
        refusal = user.last_bot_message().text
        assert "不可见的控制字符" in refusal and shown in refusal
        assert "name" not in await _dialog_data(app, 7301)
    await user.send("Ｌｉ　Ｌｅｉ")  # full-width, as a Chinese keyboard may type it
    assert (await _dialog_data(app, 7301))["name"] == "Li Lei"
    await user.press("居民身份证")
    number = make_id(date(1998, 5, 1))
    await user.send(full_width(number[:6] + " " + number[6:]))
    shown = user.last_bot_message().text
    assert f"证件号码 {number[:2]}" in shown and "校验位" not in shown
    async with app.ctx() as ctx:
        assert (await ctx.session.scalars(select(Account))).all() == []


async def _profile_user(app: BotHarness, trainee):  # type: ignore[no-untyped-def]
    user, actor = await trainee(7302, complete=False)
    async with app.ctx() as ctx:
        await profile.set_basic(ctx, actor, "ethnicity", "汉族")
        await profile.set_basic(ctx, actor, "political_status", "群众")
        await profile.set_contact(ctx, actor, "email", "li@example.com")
    return user, actor


async def test_text_longer_than_its_column_is_refused_at_its_step(
    app: BotHarness,
    trainee,  # type: ignore[no-untyped-def]
) -> None:
    user, actor = await _profile_user(app, trainee)
    await user.command("profile")
    await user.press("➡️ 去完善")  # the address
    await user.send("广州市越秀区中山二路 1 号")
    await user.command("profile")
    await user.press("➡️ 去完善")  # the emergency contact's name
    await user.send("李四")
    await user.command("profile")
    await user.press("➡️ 去完善")  # the emergency contact's phone: a landline, full-width
    await user.send("（０２０）８３８２ ７８１２")
    screen = user.last_bot_message().text
    assert "020-****7812" in screen and "+86******7812" not in screen
    await user.command("profile")
    await user.press("➡️ 去完善")  # education: adding a record, the school first
    assert "添加记录（1/5）" in user.last_bot_message().text
    await user.send("中山大学" * 1000)
    refusal = user.last_bot_message().text
    assert "“院校”最多 128 个字" in refusal and "添加记录（1/5）" in refusal
    assert "school" not in ((await _dialog_data(app, 7302)).get("new") or {})
    await user.send("<b>中山&大学</b> 🏥 جامعة")
    assert "添加记录（2/5）" in user.last_bot_message().text
    await user.send("临床\u2066医学")
    assert "U+2066" in user.last_bot_message().text
    await user.send("临床医学")
    await user.press("本科")
    await user.send("２０１６／９／１")
    await user.send("2021.6.30")
    added = user.last_bot_message()
    assert "已添加" in added.text
    assert "<b>中山&大学</b> 🏥 جامعة" in added.text  # shown as typed, not as markup
    async with app.ctx() as ctx:
        record = await ctx.session.scalar(
            select(EducationRecord).where(EducationRecord.account_id == actor.account_id)
        )
        p = await ctx.session.get(TraineeProfile, actor.account_id)
        assert record.school == "<b>中山&大学</b> 🏥 جامعة"
        assert str(record.start_date) == "2016-09-01"
        assert ctx.cipher.decrypt("emergency_phone", p.emergency_phone_enc) == "+862083827812"
        assert p.address == "广州市越秀区中山二路 1 号"  # earlier answers kept


async def test_a_reason_with_a_control_character_is_refused_and_the_question_stays(
    app: BotHarness,
) -> None:
    async with app.ctx() as ctx:
        world = await factories.build_world(ctx)
        trainee = await factories.make_trainee(ctx)
        application = await factories.submitted(ctx, world, trainee)
    base = (await enrol(app, 7311, Role.BASE, name="王主任", base_id=world.base_a.id)).user
    await press(base, AppCb(act="rej", id=application.id or 0, kind="pre").pack())
    assert "不录取”的原因" in base.last_bot_message().text
    await base.send("材料不全\x00")
    assert "U+0000" in base.last_bot_message().text
    await base.send("材料" * 300)
    assert "最多 500 个字" in base.last_bot_message().text
    async with app.ctx() as ctx:
        row = await ctx.session.get(Application, application.id)
        assert row.status == ApplicationStatus.SUBMITTED and row.not_admitted_reason is None
    await base.send("材料不全，\n请补充")  # the question is still open
    async with app.ctx() as ctx:
        row = await ctx.session.get(Application, application.id)
        assert row.status == ApplicationStatus.NOT_ADMITTED
        assert row.not_admitted_reason == "材料不全，\n请补充"
