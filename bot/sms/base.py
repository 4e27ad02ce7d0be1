"""What every SMS provider is: something that delivers a verification code to a mobile number,
or says why it could not."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from workflow.identity import mask_phone

log = logging.getLogger("zhupei.sms")

# What a template parameter can carry (the order or names come from the template's layout).
TEMPLATE_FIELDS = ("code", "minutes")


class SmsConfigError(ValueError):
    """The SMS settings cannot work (a missing credential, an unknown template field...)."""


class SmsSendError(Exception):
    """The provider did not take the message: a network error, a timeout or its error code.

    Only the provider's name and code are kept: an SDK's own message may quote the request, and
    with it the number and the code."""

    def __init__(self, provider: str, code: str) -> None:
        super().__init__(f"{provider}: {code}")
        self.provider = provider
        self.code = code


class SmsProvider(Protocol):
    async def send_code(self, e164: str, code: str) -> None:
        """Deliver `code` to the number; raise SmsSendError on failure."""


@dataclass(frozen=True)
class TemplateParam:
    """One parameter of the message template: its name (Alibaba's ${name}) and what it holds."""

    name: str
    field: str


def parse_template_params(layout: Sequence[str]) -> tuple[TemplateParam, ...]:
    """`["code", "minutes"]` or `["code=code", "min=minutes"]`: Tencent fills the template's
    {1}, {2}... in this order; Alibaba gets a JSON object by name."""
    params = []
    for item in layout:
        name, _, field = item.partition("=")
        name, field = name.strip(), (field or name).strip()
        if field not in TEMPLATE_FIELDS or not name:
            raise SmsConfigError(
                f"SMS_TEMPLATE_PARAMS: {item!r} is not one of {', '.join(TEMPLATE_FIELDS)}"
                " (optionally as NAME=FIELD)"
            )
        params.append(TemplateParam(name, field))
    if not params:
        raise SmsConfigError("SMS_TEMPLATE_PARAMS is empty: the template needs the code")
    return tuple(params)


def template_values(params: Sequence[TemplateParam], code: str, minutes: int) -> list[str]:
    values = {"code": code, "minutes": str(minutes)}
    return [values[p.field] for p in params]


@dataclass(frozen=True)
class Endpoint:
    """Where an SDK sends its request: host[:port] and the scheme."""

    host: str
    scheme: str


def parse_endpoint(value: str | None) -> Endpoint | None:
    """`SMS_ENDPOINT`: `host[:port]` (https) or a URL with its scheme (`http://127.0.0.1:8090`).
    None leaves the SDK's own endpoint for the region."""
    if not value:
        return None
    parts = urlsplit(value if "://" in value else f"https://{value}")
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise SmsConfigError(f"SMS_ENDPOINT must be host[:port] or http(s)://host[:port]: {value}")
    return Endpoint(parts.netloc, parts.scheme)


def quiet_sdk_loggers(*names: str) -> None:
    """The SDKs log whole requests (the number, the code) at DEBUG: never, whatever the level."""
    for name in (*names, "urllib3"):
        logging.getLogger(name).setLevel(logging.WARNING)


class ThreadedProvider:
    """A provider whose SDK is synchronous: each send runs in a thread, bounded by a timeout."""

    name = "sms"

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout

    def _send(self, e164: str, code: str) -> None:  # pragma: no cover - each provider's own
        raise NotImplementedError

    async def send_code(self, e164: str, code: str) -> None:
        try:
            await asyncio.wait_for(asyncio.to_thread(self._send, e164, code), self.timeout)
        except SmsSendError as err:
            log.warning("SMS to %s not sent: %s %s", mask_phone(e164), self.name, err.code)
            raise
        except TimeoutError:
            log.warning("SMS to %s not sent: %s timed out", mask_phone(e164), self.name)
            raise SmsSendError(self.name, "timeout") from None
        except Exception as exc:  # the SDK's own errors: network, a malformed answer
            kind = type(exc).__name__
            log.warning("SMS to %s not sent: %s %s", mask_phone(e164), self.name, kind)
            raise SmsSendError(self.name, kind) from None
        log.info("SMS verification code sent to %s by %s", mask_phone(e164), self.name)
