"""The typed phone number's SMS code through the real providers' SDKs, against local fakes of
Tencent Cloud's and Alibaba Cloud's SendSms (signatures checked): registration completes in
chat; a provider error asks to retry later or share the contact, loses nothing, and bypasses
neither the resend interval nor the attempt count."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date

import pytest
from pydantic import SecretStr
from sqlalchemy import select, text

from bot import sms
from bot.config import Settings
from storage.models import Account, PhoneVerification, TraineeProfile
from tests.conftest import CtxFactory
from tests.factories import make_id
from tests.harness import BotHarness
from tests.sms_fakes import FakeAliyunSms, FakeSmsServer, FakeTencentSms
from tests.trainee.conftest import last_answer
from workflow import verification
from workflow.errors import DomainError

PASSWORD = "Secret123x"
SIGN = "广东住培"


@dataclass
class Provider:
    name: str
    fake: FakeSmsServer
    settings: Settings
    rate_limited: str  # the provider's code for "too many messages to this number"

    def number_as_sent(self, e164: str) -> str:
        return e164 if self.name == "tencent" else e164.removeprefix("+86")


def provider_settings(name: str, fake: FakeSmsServer, **extra: object) -> Settings:
    if name == "tencent":
        values: dict[str, object] = {
            "sms_provider": "tencent",
            "sms_tencent_secret_id": fake.key_id,
            "sms_tencent_secret_key": SecretStr(fake.secret),
            "sms_tencent_sdk_app_id": "1400123456",
            "sms_template_id": "2233445",
            "sms_template_params": ["code", "minutes"],
        }
    else:
        values = {
            "sms_provider": "aliyun",
            "sms_aliyun_access_key_id": fake.key_id,
            "sms_aliyun_access_key_secret": SecretStr(fake.secret),
            "sms_template_id": "SMS_465000001",
            "sms_template_params": ["code=code", "min=minutes"],
        }
    values.update(sms_sign_name=SIGN, sms_endpoint=fake.url or None, **extra)
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


@pytest.fixture(params=["tencent", "aliyun"])
async def provider(request: pytest.FixtureRequest) -> AsyncIterator[Provider]:
    """The bot's SMS provider for the test: the real SDK against the provider's local fake."""
    name = request.param
    fake: FakeSmsServer = FakeTencentSms() if name == "tencent" else FakeAliyunSms()
    async with fake:
        settings = provider_settings(name, fake)
        sms.configure(settings)
        try:
            limited = (
                "LimitExceeded.PhoneNumberThirtySecondLimit"
                if name == "tencent"
                else "isv.BUSINESS_LIMIT_CONTROL"
            )
            yield Provider(name, fake, settings, limited)
        finally:
            sms.use_provider(sms.LoggingSmsProvider())


async def up_to_the_phone_step(user, login: str) -> None:  # type: ignore[no-untyped-def]
    await user.command("register")
    await user.press("Standardized residency training (住院医师规范化培训)")
    await user.send("Han Meimei")
    await user.press("Resident ID card")
    await user.send(make_id(date(1997, 3, 9)))
    await user.send(login)
    assert "Share my phone number" in str(user.reply_keyboard)


async def finish_with_passwords(user) -> None:  # type: ignore[no-untyped-def]
    await user.send(PASSWORD)
    await user.send(PASSWORD)
    assert "Registration complete" in user.last_bot_message().text


async def registered_phone(app: BotHarness, login: str) -> str:
    async with app.ctx() as ctx:
        account = await ctx.session.scalar(select(Account).where(Account.login_name == login))
        assert account is not None
        profile = await ctx.session.get(TraineeProfile, account.id)
        assert profile.name == "Han Meimei"  # what was entered before the phone step
        return ctx.cipher.decrypt("phone", profile.phone_enc)


async def test_a_typed_number_gets_its_code_by_sms_and_registration_completes(
    app: BotHarness, provider: Provider, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    user = app.user(7101, language_code="en")
    await up_to_the_phone_step(user, "hanmm")
    await user.send("139 0000 2222")
    assert "sent by SMS to +86 139****2222" in user.last_bot_message().text

    [sent] = provider.fake.received
    assert sent.phone == provider.number_as_sent("+8613900002222")
    assert sent.sign_name == SIGN and sent.template == provider.settings.sms_template_id
    if provider.name == "tencent":
        assert sent.params == [sent.code, "10"] and sent.app_id == "1400123456"
    else:
        assert sent.params == {"code": sent.code, "min": "10"}

    await user.send("000000" if sent.code != "000000" else "111111")
    assert "The code is not right" in user.last_bot_message().text
    await user.send(sent.code)
    assert "Phone +86 139****2222 verified" in user.bot_messages()[-2].text
    await finish_with_passwords(user)
    assert await registered_phone(app, "hanmm") == "+8613900002222"

    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "+86 139****2222" in logged
    assert sent.code not in logged and "13900002222" not in logged


async def test_a_provider_error_asks_to_retry_later_and_the_contact_still_finishes(
    app: BotHarness, provider: Provider
) -> None:
    user = app.user(7102, language_code="en")
    await up_to_the_phone_step(user, "hanmm2")
    provider.fake.fail_next(provider.rate_limited)
    await user.send("13900003333")
    failed = user.last_bot_message()
    assert "could not be sent right now" in failed.text and "+86 139****3333" in failed.text
    assert "Share my phone number" in failed.text
    assert user.reply_keyboard == [["📱 Share my phone number"], ["⬅️ Back", "✖️ Cancel"]]
    assert provider.fake.received == []
    async with app.ctx() as ctx:  # the code that did not go out cannot be typed back
        row = await ctx.session.get(PhoneVerification, 7102)
        assert row is not None and row.code_hash == ""

    # Still at the phone step; a retry at once meets the resend interval, not the provider.
    requests = provider.fake.requests
    await user.send("13900003333")
    assert "ask for another in 60 s" in user.last_bot_message().text
    assert provider.fake.requests == requests

    await user.share_contact("+8613900003333")
    assert "Phone +86 139****3333 verified" in user.bot_messages()[-2].text
    await finish_with_passwords(user)
    assert await registered_phone(app, "hanmm2") == "+8613900003333"
    async with app.ctx() as ctx:
        assert await ctx.session.scalar(text("SELECT count(*) FROM phone_verification")) == 0


async def test_a_failed_resend_keeps_the_code_sent_before_and_its_wrong_attempts(
    app: BotHarness, provider: Provider
) -> None:
    user = app.user(7103, language_code="en")
    await up_to_the_phone_step(user, "hanmm3")
    await user.send("13900004444")
    first = provider.fake.received[-1].code
    await user.send("000000" if first != "000000" else "111111")
    assert "The code is not right" in user.last_bot_message().text

    app.clock.advance(seconds=61)
    provider.fake.fail_next(provider.rate_limited)
    await user.press("🔁 Send the code again")
    assert "could not be sent" in last_answer(user)["text"]
    assert "could not be sent right now" in user.last_bot_message().text
    async with app.ctx() as ctx:
        row = await ctx.session.get(PhoneVerification, 7103)
        assert row.attempts == 1  # a failed send does not wipe the wrong attempts
    await user.press("🔁 Send the code again")
    assert "ask for another in 60 s" in last_answer(user)["text"]
    assert len(provider.fake.received) == 1

    await user.send(first)  # the code that did arrive still works
    assert "Phone +86 139****4444 verified" in user.bot_messages()[-2].text
    await finish_with_passwords(user)


async def test_a_provider_that_does_not_answer_in_time_fails_the_send() -> None:
    async with FakeTencentSms() as fake:
        fake.delay = 2.0
        slow = sms.build_provider(provider_settings("tencent", fake, sms_timeout_seconds=0.3))
        with pytest.raises(sms.SmsSendError) as err:
            await slow.send_code("+8613900005555", "123456")
        assert err.value.code == "timeout"


def test_a_real_provider_needs_its_credentials_and_a_known_template_layout() -> None:
    with pytest.raises(sms.SmsConfigError, match="SMS_TENCENT_SECRET_KEY"):
        sms.build_provider(Settings(_env_file=None, sms_provider="tencent"))
    with pytest.raises(sms.SmsConfigError, match="SMS_ALIYUN_ACCESS_KEY_ID"):
        sms.build_provider(Settings(_env_file=None, sms_provider="aliyun"))
    fake = FakeAliyunSms()
    with pytest.raises(sms.SmsConfigError, match="SMS_TEMPLATE_PARAMS"):
        sms.build_provider(provider_settings("aliyun", fake, sms_template_params=["code=otp"]))


def test_the_log_provider_refuses_a_real_token_unless_allowed() -> None:
    real = {"_env_file": None, "bot_token": SecretStr("123456:ABC")}
    with pytest.raises(sms.SmsConfigError, match="SMS_ALLOW_LOG_PROVIDER=true"):
        sms.build_provider(Settings(**real))  # type: ignore[arg-type]
    allowed = Settings(**real, sms_allow_log_provider=True)  # type: ignore[arg-type]
    assert isinstance(sms.build_provider(allowed), sms.LoggingSmsProvider)
    sandbox = Settings(_env_file=None, bot_token=None)
    assert isinstance(sms.build_provider(sandbox), sms.LoggingSmsProvider)


async def test_a_withdrawn_code_cannot_be_typed_back(make_ctx: CtxFactory) -> None:
    async with make_ctx() as ctx:
        previous = await verification.code_state(ctx, 950)
        e164, code = await verification.issue_code(ctx, 950, "13900006666")
        await verification.withdraw_code(ctx, 950, e164, code, previous)
    async with make_ctx() as ctx:
        with pytest.raises(DomainError) as err:
            await verification.check_code(ctx, 950, code)
        assert err.value.code == "sms.no_code"
        with pytest.raises(DomainError) as err:  # the try started the resend interval
            await verification.issue_code(ctx, 950, "13900006666")
        assert err.value.code == "sms.resend_wait"
