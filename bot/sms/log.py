"""The development provider: the code goes to the log (the number masked), nowhere else."""

from __future__ import annotations

from bot.sms.base import log
from workflow.identity import mask_phone


class LoggingSmsProvider:
    async def send_code(self, e164: str, code: str) -> None:
        log.info("SMS verification code %s for %s", code, mask_phone(e164))
