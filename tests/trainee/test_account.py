"""§一 in chat: registration (wrong check digit, someone else's contact, passwords deleted and
never stored), a duplicate ID number and recovery by phone, the SMS code path, and /login with
its throttling."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date

import pytest
from sqlalchemy import select, text

from handlers.trainee.cb import RegCb
from storage.models import Account, FsmRecord, LoginThrottle, TelegramUser, TraineeProfile
from tests.factories import make_id
from tests.harness import BotHarness
from tests.trainee.conftest import last_answer, press_data
from workflow.accounts import verify_password

PASSWORD = "Secret123x"
PHONE = "+8613812345678"


async def start_registration(user, name: str = "李雷") -> None:  # type: ignore[no-untyped-def]
    await user.command("start")
    await user.press("📝 学员注册")
    assert "请选择业务入口" in user.last_bot_message().text
    await user.press("住院医师规范化培训")
    await user.send(name)
    await user.press("居民身份证")


async def all_text_in_database(app: BotHarness) -> str:
    """Every row of every table as text (the polling inbox included): what a leak would look
    like."""
    import storage.models as models

    chunks = []
    async with app.db.engine.connect() as conn:
        for table in models.metadata.sorted_tables:
            for row in await conn.execute(text(f'SELECT * FROM "{table.name}"')):
                chunks.append(repr(tuple(row)))
    return "\n".join(chunks)


async def test_registration_walks_every_step_and_binds_the_chat(app: BotHarness) -> None:
    user = app.user(7001, first_name="Lei", language_code="zh-hans")
    number = make_id(date(1998, 5, 1))
    await start_registration(user)

    wrong = number[:-1] + ("0" if number[-1] != "0" else "1")
    await user.send(wrong)
    assert "身份证号码校验位不正确" in user.last_bot_message().text
    await user.send(number)
    assert f"证件号码 {number[:2]}" in user.last_bot_message().text
    assert number not in user.last_bot_message().text  # shown masked

    await user.send("Li Lei")  # a login name breaking the rules is asked again
    assert "登录账号须为 4–20 位" in user.last_bot_message().text
    await user.send("lilei_01")
    assert user.reply_keyboard == [["📱 分享我的手机号"], ["⬅️ 返回", "✖️ 取消"]]

    await user.share_contact("+8613900001111", own=False)
    assert "只能分享您本人的联系方式" in user.last_bot_message().text
    await user.share_contact(PHONE.lstrip("+"))  # Telegram sends it without the plus sign
    assert "手机号 +86 138****5678 已验证" in user.bot_messages()[-2].text
    assert user.reply_keyboard is None

    weak = await user.send("short1")
    assert weak.deleted
    assert "密码须为 8–64 位" in user.last_bot_message().text
    first = await user.send(PASSWORD)
    assert first.deleted
    async with app.ctx() as ctx:
        fsm = (await ctx.session.scalars(select(FsmRecord))).all()
    assert fsm and all(PASSWORD not in repr(r.data) for r in fsm)
    assert fsm[0].data["pw_hash"].startswith("$argon2id$")
    assert number not in repr(fsm[0].data)  # the ID number waits encrypted

    mismatch = await user.send("Other123x")
    assert mismatch.deleted
    assert "两次输入的密码不一致" in user.last_bot_message().text
    await user.send(PASSWORD)
    second = await user.send(PASSWORD)
    assert second.deleted
    done = user.last_bot_message()
    assert "注册完成" in done.text and "lilei_01" in done.text
    assert done.buttons == [["📝 完善个人信息"]]

    async with app.ctx() as ctx:
        account = await ctx.session.scalar(select(Account).where(Account.login_name == "lilei_01"))
        assert account is not None and account.program == "residency"
        assert account.password_hash.startswith("$argon2id$")
        assert await verify_password(account.password_hash, PASSWORD)
        profile = await ctx.session.get(TraineeProfile, account.id)
        assert ctx.cipher.decrypt("id_number", profile.id_number_enc) == number
        assert ctx.cipher.decrypt("phone", profile.phone_enc) == PHONE
        gender = "male" if int(number[16]) % 2 else "female"  # GB 11643's 17th digit
        assert profile.name == "李雷" and profile.gender == gender
        tg = await ctx.session.get(TelegramUser, 7001)
        assert tg.account_id == account.id
        assert (await ctx.session.scalars(select(FsmRecord))).all() == []
    everything = await all_text_in_database(app)
    assert PASSWORD not in everything and "Other123x" not in everything
    assert number not in everything and "13812345678" not in everything
    assert "profile" in {c.command for c in user.visible_commands()}


async def test_typed_phone_is_confirmed_by_an_sms_code(
    app: BotHarness, sms_codes: Callable[[], list[str]], caplog: pytest.LogCaptureFixture
) -> None:
    user = app.user(7002, language_code="en")
    await user.command("register")
    await user.press("Standardized residency training (住院医师规范化培训)")
    await user.send("Han Meimei")
    await user.press("Resident ID card")
    await user.send(make_id(date(1997, 3, 9)))
    await user.send("hanmm")
    await user.send("12345")
    assert "11-digit mainland China mobile" in user.last_bot_message().text
    await user.send("139 0000 2222")
    assert "sent by SMS to +86 139****2222" in user.last_bot_message().text
    assert len(sms_codes()) == 1
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name == "zhupei.sms")
    assert "+86 139****2222" in logged and "13900002222" not in logged
    await user.press("🔁 Send the code again")
    assert "ask for another in 60 s" in last_answer(user)["text"]
    code = sms_codes()[-1]
    await user.send("000000" if code != "000000" else "111111")
    assert "The code is not right" in user.last_bot_message().text
    await user.send(code)
    assert "Phone +86 139****2222 verified" in user.bot_messages()[-2].text
    await user.send(PASSWORD)
    await user.send(PASSWORD)
    assert "Registration complete" in user.last_bot_message().text
    async with app.ctx() as ctx:
        account = await ctx.session.scalar(select(Account).where(Account.login_name == "hanmm"))
        profile = await ctx.session.get(TraineeProfile, account.id)
        assert ctx.cipher.decrypt("phone", profile.phone_enc) == "+8613900002222"
        assert await ctx.session.scalar(text("SELECT count(*) FROM phone_verification")) == 0


async def test_a_registered_id_number_leads_to_login_or_recovery(app: BotHarness, trainee) -> None:  # type: ignore[no-untyped-def]
    _owner, actor = await trainee(7010)
    async with app.ctx() as ctx:
        profile = await ctx.session.get(TraineeProfile, actor.account_id)
        number = ctx.cipher.decrypt("id_number", profile.id_number_enc)
        phone = ctx.cipher.decrypt("phone", profile.phone_enc)
    user = app.user(7011)  # the owner, on a new Telegram account
    await start_registration(user, name="张三")
    await user.send(number)
    refusal = user.last_bot_message()
    assert "该证件号码已注册" in refusal.text and "/login" in refusal.text
    assert refusal.buttons[:2] == [["🔑 登录已有账号"], ["📱 通过已验证的手机号找回账号"]]

    await user.press("📱 通过已验证的手机号找回账号")
    await user.share_contact("+8613700000000")  # own, but not the account's phone
    assert "证件号码与已验证的手机号不匹配" in user.last_bot_message().text
    await user.share_contact(phone)
    assert "账号已找回" in user.bot_messages()[-2].text
    async with app.ctx() as ctx:
        assert (await ctx.session.get(TelegramUser, 7011)).account_id == actor.account_id
        assert (await ctx.session.get(TelegramUser, 7010)).account_id is None

    await user.press("🔑 设置新密码")
    await user.send("NewSecret9")
    await user.send("NewSecret9")
    assert "密码已更新" in user.last_bot_message().text
    async with app.ctx() as ctx:
        account = await ctx.session.get(Account, actor.account_id)
        assert await verify_password(account.password_hash, "NewSecret9")
    assert all(m.deleted for m in user.messages if m.text == "NewSecret9")


async def test_login_throttles_wrong_passwords_then_binds_with_the_phone(
    app: BotHarness,
    trainee,
    caplog: pytest.LogCaptureFixture,  # type: ignore[no-untyped-def]
) -> None:
    caplog.set_level(logging.INFO)  # the production log level
    _owner, actor = await trainee(7020)
    async with app.ctx() as ctx:
        account = await ctx.session.get(Account, actor.account_id)
        login = account.login_name
        profile = await ctx.session.get(TraineeProfile, actor.account_id)
        phone = ctx.cipher.decrypt("phone", profile.phone_enc)
    user = app.user(7021)
    await user.command("start")
    await user.press("🔑 登录已有账号")
    await user.send(login)
    for attempt in range(2):
        wrong = await user.send(f"Wrong{attempt}pass")
        assert wrong.deleted
        assert "登录账号或密码不正确" in user.last_bot_message().text
    async with app.ctx() as ctx:
        row = await ctx.session.get(LoginThrottle, f"account:{actor.account_id}")
        assert row.failures == 2
        assert (await ctx.session.get(LoginThrottle, "chat:7021")).failures == 2
    for attempt in range(3):
        await user.send(f"Again{attempt}wrong")
    assert "登录失败次数过多" in user.last_bot_message().text
    await user.send("Secret123")  # the right password, but throttled now
    assert "登录失败次数过多" in user.last_bot_message().text
    other_chat = app.user(7022)  # per account: another chat is refused too
    await other_chat.command("login")
    await other_chat.send(login)
    await other_chat.send("Secret123")
    assert "登录失败次数过多" in other_chat.last_bot_message().text

    app.clock.advance(minutes=16)
    await user.send("Secret123")
    assert "请验证该账号登记的手机号" in user.last_bot_message().text
    await user.share_contact("+8613700000001")
    assert "分享的手机号与该账号验证过的手机号不一致" in user.last_bot_message().text
    await user.share_contact(phone)
    assert "登录成功" in user.bot_messages()[-2].text
    async with app.ctx() as ctx:
        assert (await ctx.session.get(TelegramUser, 7021)).account_id == actor.account_id
    assert "Secret123" not in caplog.text
    assert all(m.deleted for m in user.messages if m.text and "Secret123" in m.text)


async def test_back_and_cancel_at_every_kind_of_step(app: BotHarness) -> None:
    user = app.user(7003)
    await user.command("register")
    await user.press("住院医师规范化培训")
    await user.press("⬅️ 返回")
    assert "请选择业务入口" in user.last_bot_message().text
    await user.press("住院医师规范化培训")
    await user.send("王五")
    await user.press("⬅️ 返回")  # from the ID type back to the name
    assert "请输入您的姓名" in user.last_bot_message().text
    await user.send("王五")
    await user.press("居民身份证")
    await user.send(make_id(date(1996, 1, 2)))
    await user.send("wangwu")
    assert user.reply_keyboard is not None
    await user.send("⬅️ 返回")  # the reply keyboard's back key: to the login name
    assert "请设置登录账号" in user.last_bot_message().text
    assert user.reply_keyboard is None
    await user.send("wangwu")
    await user.send("✖️ 取消")  # the reply keyboard's cancel key
    assert user.last_bot_message().text == "已取消。您已保存的信息不会丢失。"
    assert user.reply_keyboard is None
    async with app.ctx() as ctx:
        assert (await ctx.session.scalars(select(FsmRecord))).all() == []

    await user.command("register")
    program = user.last_bot_message()
    await user.press("住院医师规范化培训")
    await user.command("cancel")
    assert user.last_bot_message().text == "已取消。您已保存的信息不会丢失。"
    await user.send("赵六")  # no dialog waits for a name any more
    assert "无法识别的消息" in user.last_bot_message().text
    assert program.edited  # the old program message was turned into the name question
    await press_data(user, program, RegCb(action="program", v="residency").pack())
    assert last_answer(user)["text"] == "这个按钮已过期，请使用最新的消息。"
