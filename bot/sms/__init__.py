"""SMS providers: how a verification code reaches a typed mobile number.

`SMS_PROVIDER` picks one at startup (`configure(settings)`): Tencent Cloud SMS, Alibaba Cloud
SMS, or the development provider that writes the code to the log. Handlers get it from
`provider()`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pydantic import SecretStr

from bot.config import Settings
from bot.sms.aliyun import AliyunSmsProvider
from bot.sms.base import SmsConfigError, SmsProvider, SmsSendError, parse_endpoint
from bot.sms.base import parse_template_params as _layout
from bot.sms.log import LoggingSmsProvider
from bot.sms.tencent import TencentSmsProvider
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


@dataclass(frozen=True)
class _Cloud:
    """How a cloud's provider is built from the settings."""

    provider: Callable[..., SmsProvider]
    region: str  # without SMS_REGION
    template: str  # the keyword the provider takes SMS_TEMPLATE_ID by
    keys: dict[str, str]  # the provider's keyword → the setting of that credential


_CLOUDS: dict[str, _Cloud] = {
    "tencent": _Cloud(
        TencentSmsProvider,
        "ap-guangzhou",
        "template_id",
        {
            "secret_id": "sms_tencent_secret_id",
            "secret_key": "sms_tencent_secret_key",
            "sdk_app_id": "sms_tencent_sdk_app_id",
        },
    ),
    "aliyun": _Cloud(
        AliyunSmsProvider,
        "cn-hangzhou",
        "template_code",
        {
            "access_key_id": "sms_aliyun_access_key_id",
            "access_key_secret": "sms_aliyun_access_key_secret",
        },
    ),
}


def _required(settings: Settings, *names: str) -> dict[str, str]:
    """The settings' values of `names` (secrets revealed); SmsConfigError naming those unset."""
    missing = [name.upper() for name in names if not getattr(settings, name)]
    if missing:
        kind = settings.sms_provider
        raise SmsConfigError(f"SMS_PROVIDER={kind} needs {', '.join(missing)}")
    values = {name: getattr(settings, name) for name in names}
    return {k: v.get_secret_value() if isinstance(v, SecretStr) else v for k, v in values.items()}


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
    params = _layout(settings.sms_template_params)
    cloud = _CLOUDS[kind]
    values = _required(settings, *cloud.keys.values(), "sms_sign_name", "sms_template_id")
    return cloud.provider(
        **{keyword: values[name] for keyword, name in cloud.keys.items()},
        region=settings.sms_region or cloud.region,
        sign_name=values["sms_sign_name"],
        **{cloud.template: values["sms_template_id"]},
        template_params=params,
        code_minutes=int(CODE_TTL.total_seconds() // 60),
        endpoint=parse_endpoint(settings.sms_endpoint),
        timeout=settings.sms_timeout_seconds,
    )
