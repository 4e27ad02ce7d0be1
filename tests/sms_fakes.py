"""Local fakes of the SMS providers' HTTP APIs: aiohttp servers on 127.0.0.1 that check the
request's signature as the real service does, answer success or a scripted error, and record
every message they accepted (number, sign name, template, parameters).

- Tencent Cloud: the TC3-HMAC-SHA256 signed JSON API, `POST /` with `X-TC-Action: SendSms`
  (version 2021-01-11); per-number results in `SendStatusSet`, API errors in `Response.Error`.
- Alibaba Cloud: the RPC API `SendSms` (version 2017-05-25) with the ACS3-HMAC-SHA256
  signature over the canonical query and headers; business errors come with HTTP 200.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from aiohttp import web


@dataclass(frozen=True)
class ReceivedSms:
    phone: str
    sign_name: str
    template: str
    params: Any  # Tencent: the list of values; Alibaba: the JSON object
    app_id: str | None = None

    @property
    def code(self) -> str:
        """The verification code: the first six-digit value of the parameters."""
        values = self.params.values() if isinstance(self.params, dict) else self.params
        return next(v for v in values if re.fullmatch(r"\d{6}", str(v)))


@dataclass
class FakeSmsServer:
    """What both fakes share: the server, the record, and the scripted failures."""

    key_id: str
    secret: str
    received: list[ReceivedSms] = field(default_factory=list)
    requests: int = 0
    failures: list[str] = field(default_factory=list)  # error codes for the next sends
    delay: float = 0.0  # seconds before each answer (a provider that does not answer in time)
    _runner: web.AppRunner | None = None
    url: str = ""

    def fail_next(self, *codes: str) -> None:
        """The next sends are answered with these error codes, one each."""
        self.failures.extend(codes)

    async def start(self) -> str:
        app = web.Application()
        app.router.add_route("*", "/", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> FakeSmsServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.requests += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        return await self._answer_request(request)

    async def _answer_request(self, request: web.Request) -> web.StreamResponse:
        raise NotImplementedError


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


class FakeTencentSms(FakeSmsServer):
    """Tencent Cloud SMS. A failure code starting with `AuthFailure`, `InternalError` or
    `RequestLimitExceeded` is an API error; any other is the number's own status."""

    def __init__(self, secret_id: str = "AKIDfake", secret_key: str = "tencent-secret") -> None:
        super().__init__(key_id=secret_id, secret=secret_key)

    @staticmethod
    def _answer(response: dict[str, Any]) -> web.Response:
        response["RequestId"] = str(uuid.uuid4())
        # The SDK reads errors only from exactly this content type, as the service sends it.
        return web.Response(
            body=json.dumps({"Response": response}).encode(),
            headers={"Content-Type": "application/json"},
        )

    def _error(self, code: str, message: str) -> web.Response:
        return self._answer({"Error": {"Code": code, "Message": message}})

    def _signature_ok(self, request: web.Request, body: bytes) -> bool:
        auth = request.headers.get("Authorization", "")
        m = re.fullmatch(
            r"TC3-HMAC-SHA256 Credential=([^/]+)/(\d{4}-\d{2}-\d{2})/(\w+)/tc3_request, "
            r"SignedHeaders=content-type;host, Signature=([0-9a-f]{64})",
            auth,
        )
        if m is None or m[1] != self.key_id or m[3] != "sms":
            return False
        timestamp = request.headers.get("X-TC-Timestamp", "")
        day = datetime.fromtimestamp(int(timestamp or 0), UTC).strftime("%Y-%m-%d")
        if day != m[2]:
            return False
        canonical = "\n".join(
            [
                request.method,
                "/",
                "",
                f"content-type:{request.headers.get('Content-Type', '')}\n"
                f"host:{request.headers.get('Host', '')}\n",
                "content-type;host",
                _sha256(body),
            ]
        )
        to_sign = (
            f"TC3-HMAC-SHA256\n{timestamp}\n{day}/sms/tc3_request\n{_sha256(canonical.encode())}"
        )
        key = _hmac(_hmac(_hmac(f"TC3{self.secret}".encode(), day), "sms"), "tc3_request")
        expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, m[4])

    async def _answer_request(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        if request.method != "POST" or request.headers.get("X-TC-Action") != "SendSms":
            return self._error("InvalidAction", "only SendSms is spoken here")
        if request.headers.get("X-TC-Version") != "2021-01-11":
            return self._error("InvalidParameter.Version", "version 2021-01-11 expected")
        if not self._signature_ok(request, body):
            return self._error("AuthFailure.SignatureFailure", "The provided credentials ...")
        params = json.loads(body)
        failure = self.failures.pop(0) if self.failures else None
        if failure and failure.startswith(("AuthFailure", "InternalError", "RequestLimit")):
            return self._error(failure, "scripted failure")
        statuses = []
        for phone in params.get("PhoneNumberSet", []):
            code = failure or "Ok"
            if code == "Ok":
                self.received.append(
                    ReceivedSms(
                        phone=phone,
                        sign_name=params.get("SignName", ""),
                        template=params.get("TemplateId", ""),
                        params=list(params.get("TemplateParamSet", [])),
                        app_id=params.get("SmsSdkAppId"),
                    )
                )
            statuses.append(
                {
                    "SerialNo": uuid.uuid4().hex if code == "Ok" else "",
                    "PhoneNumber": phone,
                    "Fee": 1 if code == "Ok" else 0,
                    "SessionContext": "",
                    "Code": code,
                    "Message": "send success" if code == "Ok" else "scripted failure",
                    "IsoCode": "CN",
                }
            )
        return self._answer({"SendStatusSet": statuses})


class FakeAliyunSms(FakeSmsServer):
    """Alibaba Cloud SMS. A failure code starting with `SignatureDoesNotMatch`, `Throttling` or
    `InvalidAccessKeyId` is an HTTP error; any other (`isv.…`) a business answer."""

    def __init__(self, access_key_id: str = "LTAIfake", secret: str = "aliyun-secret") -> None:
        super().__init__(key_id=access_key_id, secret=secret)

    @staticmethod
    def _answer(payload: dict[str, Any], status: int = 200) -> web.Response:
        payload["RequestId"] = str(uuid.uuid4()).upper()
        return web.json_response(payload, status=status)

    def _signature_ok(self, request: web.Request, body: bytes) -> bool:
        auth = request.headers.get("Authorization", "")
        m = re.fullmatch(
            r"ACS3-HMAC-SHA256 Credential=([^,]+),SignedHeaders=([^,]+),Signature=([0-9a-f]{64})",
            auth,
        )
        if m is None or m[1] != self.key_id:
            return False
        signed = m[2].split(";")
        if not {"host", "x-acs-action", "x-acs-date", "x-acs-content-sha256"} <= set(signed):
            return False
        payload_hash = _sha256(body)
        if request.headers.get("x-acs-content-sha256") != payload_hash:
            return False
        query = "&".join(f"{k}={quote(v, safe='~')}" for k, v in sorted(request.query.items()))
        headers = "".join(f"{name}:{request.headers.get(name, '').strip()}\n" for name in signed)
        canonical = "\n".join([request.method, request.path, query, headers, m[2], payload_hash])
        to_sign = f"ACS3-HMAC-SHA256\n{_sha256(canonical.encode())}"
        expected = _hmac(self.secret.encode(), to_sign).hex()
        return hmac.compare_digest(expected, m[3])

    async def _answer_request(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        if request.headers.get("x-acs-action") != "SendSms":
            return self._answer({"Code": "InvalidAction.NotFound", "Message": "?"}, 404)
        if request.headers.get("x-acs-version") != "2017-05-25":
            return self._answer({"Code": "InvalidVersion", "Message": "2017-05-25"}, 400)
        if not self._signature_ok(request, body):
            return self._answer({"Code": "SignatureDoesNotMatch", "Message": "signature"}, 400)
        failure = self.failures.pop(0) if self.failures else None
        if failure and failure.startswith(("SignatureDoesNotMatch", "InvalidAccessKeyId")):
            return self._answer({"Code": failure, "Message": "scripted failure"}, 400)
        if failure and failure.startswith("Throttling"):
            return self._answer({"Code": failure, "Message": "scripted failure"}, 503)
        if failure:
            return self._answer({"Code": failure, "Message": "scripted failure"})
        query = request.query
        self.received.append(
            ReceivedSms(
                phone=query.get("PhoneNumbers", ""),
                sign_name=query.get("SignName", ""),
                template=query.get("TemplateCode", ""),
                params=json.loads(query.get("TemplateParam", "{}")),
            )
        )
        return self._answer({"Code": "OK", "Message": "OK", "BizId": uuid.uuid4().hex[:20]})
