"""SMS providers: how a verification code reaches a typed mobile number.

`SMS_PROVIDER` picks one at startup (`configure(settings)`): Tencent Cloud SMS, Alibaba Cloud
SMS, or the development provider that writes the code to the log. Handlers get it from
`provider()`.
"""

from __future__ import annotations

from bot.config import Settings
from bot.sms.base import SmsConfigError, SmsProvider, SmsSendError, parse_endpoint
from bot.sms.base import parse_template_params as _layout
from bot.sms.log import LoggingSmsProvider
from workflow.verification import CODE_TTL

__all__ = [
    "LoggingSmsProvider",
    "SmsConfigError",
    "SmsProvider",
    "SmsSendError",
    "build_provider",
    "configure",
    "provider",
    "use_provider",
]

_provider: SmsProvider = LoggingSmsProvider()


def provider() -> SmsProvider:
    return _provider


def use_provider(new: SmsProvider) -> None:
    global _provider
    _provider = new


def configure(settings: Settings) -> None:
    """The provider the settings ask for becomes `provider()`; SmsConfigError when they cannot
    work."""
    use_provider(build_provider(settings))


def _required(settings: Settings, *names: str) -> None:
    missing = [name.upper() for name in names if not getattr(settings, name)]
    if missing:
        kind = settings.sms_provider
        raise SmsConfigError(f"SMS_PROVIDER={kind} needs {', '.join(missing)}")


def build_provider(settings: Settings) -> SmsProvider:
    kind = settings.sms_provider
    if kind == "log":
        if not settings.sandbox and not settings.sms_allow_log_provider:
            raise SmsConfigError(
                "SMS_PROVIDER=log would send verification codes only to the log, and a real "
                "BOT_TOKEN is set. Configure SMS_PROVIDER=tencent or aliyun (see README, SMS), "
                "or set SMS_ALLOW_LOG_PROVIDER=true for a test deployment."
            )
        return LoggingSmsProvider()
    minutes = int(CODE_TTL.total_seconds() // 60)
    params = _layout(settings.sms_template_params)
    timeout = settings.sms_timeout_seconds
    if kind == "tencent":
        from bot.sms.tencent import TencentSmsProvider

        _required(
            settings,
            "sms_tencent_secret_id",
            "sms_tencent_secret_key",
            "sms_tencent_sdk_app_id",
            "sms_sign_name",
            "sms_template_id",
        )
        assert settings.sms_tencent_secret_key is not None
        return TencentSmsProvider(
            secret_id=settings.sms_tencent_secret_id or "",
            secret_key=settings.sms_tencent_secret_key.get_secret_value(),
            region=settings.sms_region or "ap-guangzhou",
            sdk_app_id=settings.sms_tencent_sdk_app_id or "",
            sign_name=settings.sms_sign_name or "",
            template_id=settings.sms_template_id or "",
            template_params=params,
            code_minutes=minutes,
            endpoint=parse_endpoint(settings.sms_endpoint),
            timeout=timeout,
        )
    from bot.sms.aliyun import AliyunSmsProvider

    _required(
        settings,
        "sms_aliyun_access_key_id",
        "sms_aliyun_access_key_secret",
        "sms_sign_name",
        "sms_template_id",
    )
    assert settings.sms_aliyun_access_key_secret is not None
    return AliyunSmsProvider(
        access_key_id=settings.sms_aliyun_access_key_id or "",
        access_key_secret=settings.sms_aliyun_access_key_secret.get_secret_value(),
        region=settings.sms_region or "cn-hangzhou",
        sign_name=settings.sms_sign_name or "",
        template_code=settings.sms_template_id or "",
        template_params=params,
        code_minutes=minutes,
        endpoint=parse_endpoint(settings.sms_endpoint),
        timeout=timeout,
    )
