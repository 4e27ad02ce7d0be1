"""The outbox sender as a process of its own:

    python -m scheduler.sender_main [--until-idle]

Settings come from the environment like the bot's (DATABASE_URL, BOT_TOKEN, TELEGRAM_API_URL,
OUTBOX_RATE_PER_SECOND, …). It sends until SIGTERM/SIGINT (or, with --until-idle, until nothing
is due). With REDIS_URL it shares the send rate limit with every other sender of the bot and
sends alongside them. Killed outright it loses nothing: its claimed rows are claimed again once
their lease runs out, and at most the message that was in flight is sent twice.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal

from bot.app import build_bot
from bot.config import Settings
from bot.logs import setup_logging
from bot.runner import build_services
from scheduler.outbox import OutboxSender

log = logging.getLogger("zhupei.sender")


def register_renderers() -> None:
    """The features register their notice renderers when their routers are built (the bot does
    this at start); a sender on its own must do the same, or it could not render their kinds."""
    from handlers import build_routers

    build_routers()


async def main_async(settings: Settings, *, until_idle: bool) -> int:
    if settings.bot_token is None or not settings.bot_token.get_secret_value():
        raise SystemExit("BOT_TOKEN is required")
    register_renderers()
    services = build_services(settings)
    bot = build_bot(settings.bot_token.get_secret_value(), settings.telegram_api_url, settings)
    sender = OutboxSender(services, bot)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    log.info("outbox sender %s started", sender.owner)
    try:
        if until_idle:
            await sender.drain(until_idle=True, stop=stop)
            await sender.limiter.close()
        else:
            await sender.run(stop)
    finally:
        await bot.session.close()
        await services.db.dispose()
    log.info("outbox sender stopped: %s", dict(sender.outcomes))
    return sender.sent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--until-idle", action="store_true", help="exit once nothing is due")
    args = parser.parse_args()
    settings = Settings()
    setup_logging(settings.log_level)
    asyncio.run(main_async(settings, until_idle=args.until_idle))


if __name__ == "__main__":
    main()
