"""Tencent Cloud SMS (短信, API 2021-01-11 `SendSms`) through the official SDK."""

from __future__ import annotations

import math
from collections.abc import Sequence

from bot.sms.base import (
    Endpoint,
    SmsSendError,
    TemplateParam,
    ThreadedProvider,
    quiet_sdk_loggers,
    template_values,
)


class TencentSmsProvider(ThreadedProvider):
    name = "tencent"

    def __init__(
        self,
        *,
        secret_id: str,
        secret_key: str,
        region: str,
        sdk_app_id: str,
        sign_name: str,
        template_id: str,
        template_params: Sequence[TemplateParam],
        code_minutes: int,
        endpoint: Endpoint | None,
        timeout: float,
    ) -> None:
        from tencentcloud.common import credential
        from tencentcloud.common.profile.client_profile import ClientProfile
        from tencentcloud.common.profile.http_profile import HttpProfile
        from tencentcloud.sms.v20210111 import sms_client

        super().__init__(timeout)
        quiet_sdk_loggers("tencentcloud_sdk_common")
        http = HttpProfile(reqTimeout=max(1, math.ceil(timeout)))
        if endpoint is not None:
            http.endpoint = endpoint.host
            http.protocol = http.scheme = endpoint.scheme
        self._client = sms_client.SmsClient(
            credential.Credential(secret_id, secret_key), region, ClientProfile(httpProfile=http)
        )
        self._sdk_app_id = sdk_app_id
        self._sign_name = sign_name
        self._template_id = template_id
        self._template_params = tuple(template_params)
        self._code_minutes = code_minutes

    def _send(self, e164: str, code: str) -> None:
        from tencentcloud.common.exception.tencent_cloud_sdk_exception import (
            TencentCloudSDKException,
        )
        from tencentcloud.sms.v20210111 import models

        request = models.SendSmsRequest()
        request.SmsSdkAppId = self._sdk_app_id
        request.SignName = self._sign_name
        request.TemplateId = self._template_id
        request.TemplateParamSet = template_values(self._template_params, code, self._code_minutes)
        request.PhoneNumberSet = [e164]
        try:
            response = self._client.SendSms(request)
        except TencentCloudSDKException as exc:  # the API's Error, or the SDK's network error
            raise SmsSendError(self.name, str(exc.get_code() or "error")) from None
        statuses = response.SendStatusSet or []
        # One number, one status: "Ok", or why this number was refused (rate limits, a wrong
        # number, an unapproved template).
        status = statuses[0].Code if statuses else "NoStatus"
        if status != "Ok":
            raise SmsSendError(self.name, str(status))
