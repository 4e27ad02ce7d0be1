"""An unexpected failure: the user gets an apology in their language; the log gets the
traceback with personal data redacted."""

from __future__ import annotations

import io
import logging

from bench.probe import build_probe_router
from bot.logs import RedactingFormatter
from handlers import build_routers
from tests.harness import BotHarness


async def test_failure_is_apologised_for_and_logged_without_personal_data(app: BotHarness) -> None:
    await app.restart(routers=[build_probe_router(), *build_routers()])
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(RedactingFormatter("%(levelname)s %(name)s %(message)s"))
    errors_log = logging.getLogger("zhupei.errors")
    errors_log.addHandler(handler)
    zh, en = app.user(601, language_code="zh-hans"), app.user(602, language_code="en")
    try:
        await zh.send("/boom 44010619980501123X 13812345678")
        await en.send("/boom +8613912345678")
    finally:
        errors_log.removeHandler(handler)
    assert zh.last_bot_message().text.startswith("抱歉，处理时出现了问题")
    assert en.last_bot_message().text.startswith("Sorry, something went wrong")
    logged = stream.getvalue()
    assert "RuntimeError: probe failure with [id] [phone]" in logged
    assert "Traceback" in logged
    for needle in ("44010619980501123X", "13812345678", "13912345678"):
        assert needle not in logged
