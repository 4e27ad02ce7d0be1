"""Alibaba Cloud SMS (短信服务, Dysmsapi 2017-05-25 `SendSms`) through the official SDK."""

from __future__ import annotations

import json
from collections.abc import Sequence

from bot.sms.base import (
    Endpoint,
    SmsSendError,
    TemplateParam,
    ThreadedProvider,
    quiet_sdk_loggers,
    template_values,
)


def mainland_number(e164: str) -> str:
    """Alibaba takes mainland numbers without the country code."""
    return e164.removeprefix("+86") if e164.startswith("+86") else e164.removeprefix("+")


class AliyunSmsProvider(ThreadedProvider):
    name = "aliyun"

    def __init__(
        self,
        *,
        access_key_id: str,
        access_key_secret: str,
        region: str,
        sign_name: str,
        template_code: str,
        template_params: Sequence[TemplateParam],
        code_minutes: int,
        endpoint: Endpoint | None,
        timeout: float,
    ) -> None:
        from alibabacloud_dysmsapi20170525.client import Client
        from alibabacloud_tea_openapi.utils_models import Config

        super().__init__(timeout)
        quiet_sdk_loggers("alibabacloud_credentials", "alibabacloud_tea_openapi", "darabonba")
        millis = int(timeout * 1000)
        config = Config(
            access_key_id=access_key_id,
            access_key_secret=access_key_secret,
            region_id=region,
            connect_timeout=millis,
            read_timeout=millis,
        )
        if endpoint is not None:
            config.endpoint = endpoint.host
            config.protocol = endpoint.scheme.upper()
        self._client = Client(config)
        self._sign_name = sign_name
        self._template_code = template_code
        self._template_params = tuple(template_params)
        self._code_minutes = code_minutes

    def _send(self, e164: str, code: str) -> None:
        from alibabacloud_dysmsapi20170525 import models
        from alibabacloud_tea_openapi.exceptions import AlibabaCloudException

        values = template_values(self._template_params, code, self._code_minutes)
        request = models.SendSmsRequest(
            phone_numbers=mainland_number(e164),
            sign_name=self._sign_name,
            template_code=self._template_code,
            template_param=json.dumps(
                {p.name: v for p, v in zip(self._template_params, values, strict=True)},
                ensure_ascii=False,
            ),
        )
        try:
            response = self._client.send_sms(request)
        except AlibabaCloudException as exc:  # an HTTP error answer: signature, access, throttling
            raise SmsSendError(self.name, str(exc.code or "error")) from None
        # The business answer comes with HTTP 200: "OK", or why (isv.BUSINESS_LIMIT_CONTROL for
        # the per-number rate limits, isv.MOBILE_NUMBER_ILLEGAL...).
        status = response.body.code if response.body is not None else None
        if status != "OK":
            raise SmsSendError(self.name, str(status or "NoStatus"))
