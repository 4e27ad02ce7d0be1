"""Webhook intake: Telegram POSTs each update to `WEBHOOK_URL`; several instances can stand
behind that URL.

- A request without the right `X-Telegram-Bot-Api-Secret-Token` gets 401 and changes nothing.
- An update is handled and its unit committed (bot/unit.py) before the 2xx goes back, so a crash
  makes Telegram send it again; a redelivered update finds its row in the update log and is not
  handled twice (whichever instance it reaches).
- On SIGTERM the instance answers 503 (Telegram retries, reaching another instance), finishes
  the updates in flight, sends what they owe, and exits within the grace time.
- Replies that an instance committed but could not send (it died, or Telegram asked to wait) are
  sent by any instance once their lease has passed; an instance still sending them keeps its
  lease (bot/unit.py), so no other one sends them too.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import signal
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.types import Update
from aiohttp import web

from bot.services import Services
from bot.unit import already_handled, deliver_owed, purge_log

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
OWED_EVERY_SECONDS = 5.0
PURGE_EVERY_SECONDS = 3600.0


class WebhookIntake:
    def __init__(
        self,
        dp: Dispatcher,
        bot: Bot,
        services: Services,
        *,
        secret: str | None,
        path: str,
        grace_seconds: float,
    ) -> None:
        self.dp, self.bot, self.services = dp, bot, services
        self.secret = secret
        self.path = path
        self.grace_seconds = grace_seconds
        self.accepting = True
        self.stopped = asyncio.Event()
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def routes(self, app: web.Application) -> None:
        app.router.add_post(self.path, self.handle)

    async def handle(self, request: web.Request) -> web.Response:
        if self.secret is not None:
            given = request.headers.get(SECRET_HEADER, "")
            if not hmac.compare_digest(given.encode(), self.secret.encode()):
                return web.Response(status=401, text="wrong secret token")
        if not self.accepting:
            return web.Response(status=503, headers={"Retry-After": "1"}, text="shutting down")
        try:
            payload = await request.json()
            update = Update.model_validate(payload, context={"bot": self.bot})
        except ValueError:
            return web.Response(status=400, text="not an update")
        self._in_flight += 1
        self._idle.clear()
        try:
            if update.update_id in await already_handled(self.services, [update.update_id]):
                log.info("update %s was handled already; redelivery ignored", update.update_id)
                return web.Response(status=200)
            await self.dp.feed_update(self.bot, update)
        except Exception:
            log.exception("update %s failed; Telegram will deliver it again", update.update_id)
            return web.Response(status=500)
        finally:
            self._in_flight -= 1
            if self._in_flight == 0:
                self._idle.set()
        return web.Response(status=200)

    def stop(self) -> None:
        """Stop taking updates; those in flight finish."""
        self.accepting = False
        self.stopped.set()

    async def drain(self) -> None:
        try:
            await asyncio.wait_for(self._idle.wait(), self.grace_seconds)
        except TimeoutError:
            log.warning("%d updates still running at the end of the grace time", self._in_flight)

    async def background(self) -> None:
        """Owed replies whose lease has passed, and forgetting old updates."""
        keep = timedelta(hours=self.services.settings.update_log_keep_hours)
        last_purge = 0.0
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(OWED_EVERY_SECONDS)
            try:
                await deliver_owed(self.services, self.bot)
                if loop.time() - last_purge > PURGE_EVERY_SECONDS:
                    await purge_log(self.services, keep)
                    last_purge = loop.time()
            except Exception:
                log.exception("sending owed replies failed; trying again later")


async def run_webhook(
    dp: Dispatcher,
    bot: Bot,
    services: Services,
    *,
    allowed_updates: list[str] | None = None,
    extra_routes: Callable[[web.Application], None] | None = None,
    install_signals: bool = True,
    started: Callable[[WebhookIntake, str], Any] | None = None,
) -> None:
    """Serve the webhook until SIGTERM/SIGINT (or the intake's `stop()`), then drain."""
    settings = services.settings
    assert settings.webhook_url, "WEBHOOK_URL is required for webhook intake"
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
    intake = WebhookIntake(
        dp,
        bot,
        services,
        secret=secret,
        path=settings.webhook_path,
        grace_seconds=settings.shutdown_grace_seconds,
    )
    app = web.Application()
    intake.routes(app)
    if extra_routes is not None:
        extra_routes(app)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
    await runner.setup()
    site = web.TCPSite(runner, settings.webhook_host, settings.webhook_port)
    await site.start()
    address = runner.addresses[0]
    log.info("webhook intake listening on %s:%s%s", address[0], address[1], settings.webhook_path)
    workflow_data = {"dispatcher": dp, "bots": [bot], **dp.workflow_data}
    await dp.emit_startup(bot=bot, **workflow_data)
    await bot.set_webhook(
        settings.webhook_url,
        secret_token=secret,
        allowed_updates=allowed_updates,
        max_connections=settings.max_concurrent_updates,
    )
    if install_signals:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, intake.stop)
    if started is not None:
        started(intake, f"http://{address[0]}:{address[1]}")
    background = asyncio.create_task(intake.background(), name="webhook-owed-replies")
    try:
        await intake.stopped.wait()
        log.info("stopping: new updates are answered 503, finishing those in flight")
        await intake.drain()
    finally:
        background.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await background
        await runner.cleanup()
        await dp.emit_shutdown(bot=bot, **workflow_data)
