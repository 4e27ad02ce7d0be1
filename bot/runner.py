"""`zhupei run`: start the bot against Telegram (with a token) or the local sandbox (without)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiogram import Bot, Dispatcher
from aiohttp import web

from bot.app import build_bot, build_dispatcher
from bot.config import Settings
from bot.fsm_storage import SqlStorage
from bot.keys import load_cipher
from bot.logs import setup_logging
from bot.menus import set_default_menus
from bot.miniapp.links import miniapp_base
from bot.miniapp.server import mount_when_configured
from bot.ops import background_probes, ops_routes, start_ops_server
from bot.polling import run_polling
from bot.services import Services
from storage.db import Database
from workflow.clock import SystemClock

log = logging.getLogger("zhupei")


class NotMigrated(SystemExit):
    pass


async def ensure_schema(settings: Settings, url: str) -> None:
    """Refuse a database behind the current migration; the sandbox upgrades by itself."""
    from storage import migrate

    if await asyncio.to_thread(migrate.is_up_to_date, url):
        return
    if settings.sandbox:
        log.info("upgrading the sandbox database")
        await asyncio.to_thread(migrate.upgrade, url)
        return
    raise NotMigrated(
        "The database is behind the current migration. Run `zhupei db upgrade` first."
    )


def build_services(settings: Settings) -> Services:
    db = Database(settings.resolved_database_url)
    clock = SystemClock()
    return Services(
        settings=settings,
        db=db,
        cipher=load_cipher(settings),
        clock=clock,
        fsm_storage=SqlStorage(db, clock=clock),
    )


async def serve(services: Services, bot: Bot, dp: Dispatcher) -> None:
    """Everything a running bot does: menus, the scheduler, and polling until stopped."""
    from scheduler import runtime as scheduler_runtime

    await set_default_menus(bot, miniapp_base(services.settings))
    if not services.settings.sandbox:  # the command line prints links to this bot's username
        from bot.username import remember

        await remember(services.db, bot, services.clock)
    background = await scheduler_runtime.start(services, bot)
    settings = services.settings
    probes = background_probes(background)
    ops_server = None

    miniapp = mount_when_configured(services)

    def webhook_routes(app: web.Application) -> None:
        app.add_routes(ops_routes(services, probes))
        miniapp(app)

    try:
        if settings.webhook_url:
            from bot.webhook import run_webhook

            await run_webhook(
                dp,
                bot,
                services,
                allowed_updates=dp.resolve_used_update_types(),
                extra_routes=webhook_routes,
            )
        else:
            if settings.miniapp_url and settings.ops_port is None:
                log.warning("MINIAPP_URL is set but OPS_PORT is not: the Mini App is not served")
            if settings.ops_port is not None:
                ops_server = await start_ops_server(
                    settings.ops_host,
                    settings.ops_port,
                    services,
                    probes,
                    extra_routes=miniapp,
                )
            await run_polling(
                dp,
                bot,
                services.db,
                services.clock,
                services.cipher,
                concurrency=services.settings.max_concurrent_updates,
                allowed_updates=dp.resolve_used_update_types(),
                drain_timeout=services.settings.shutdown_grace_seconds,
            )
    finally:
        if ops_server is not None:
            await ops_server.cleanup()
        await scheduler_runtime.stop(background)
        await bot.session.close()


class SmsNotConfigured(SystemExit):
    pass


def configure_sms(settings: Settings) -> None:
    """The SMS provider of the settings, or a refusal to start that says what is wrong."""
    from bot import sms

    try:
        sms.configure(settings)
    except sms.SmsConfigError as exc:
        raise SmsNotConfigured(f"zhupei: SMS: {exc}") from None


async def run_async(settings: Settings) -> None:
    configure_sms(settings)
    url = settings.resolved_database_url
    await ensure_schema(settings, url)
    services = build_services(settings)
    try:
        if settings.sandbox:
            await run_sandbox(settings, services)
        else:
            assert settings.bot_token is not None
            bot = build_bot(
                settings.bot_token.get_secret_value(), settings.telegram_api_url, settings
            )
            await serve(services, bot, build_dispatcher(services))
    finally:
        await services.db.dispose()


async def run_sandbox(settings: Settings, services: Services) -> None:
    from bot.sandbox_web import run_web_sandbox

    await run_web_sandbox(settings, services)


def run(settings: Settings | None = None) -> None:
    settings = settings or Settings()
    setup_logging(settings.log_level, settings.log_format)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_async(settings))
