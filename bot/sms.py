"""SMS providers: how a verification code reaches a typed mobile number.

The shipped provider is for development: it writes the code to the log with the number masked.
A deployment plugs in its gateway with `use_provider()` before the bot starts.
"""

from __future__ import annotations

import logging
from typing import Protocol

from workflow.identity import mask_phone

log = logging.getLogger("zhupei.sms")


class SmsProvider(Protocol):
    async def send_code(self, e164: str, code: str) -> None:
        """Deliver `code` to the number; raise on failure."""


class LoggingSmsProvider:
    """Development provider: the code goes to the log, never the full number."""

    async def send_code(self, e164: str, code: str) -> None:
        log.info("SMS verification code %s for %s", code, mask_phone(e164))


_provider: SmsProvider = LoggingSmsProvider()


def provider() -> SmsProvider:
    return _provider


def use_provider(new: SmsProvider) -> None:
    global _provider
    _provider = new
