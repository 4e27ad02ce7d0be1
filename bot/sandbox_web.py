"""`zhupei run` with no token: the bot, its scheduler and its outbox sender against the Bot API
emulator, with the web chat (bot/webchat/) to play every role of the workflow in a browser, a
demo clock shared by everything, and the emulator's chats kept in the data directory."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from dataclasses import replace
from datetime import time

from aiogram import Bot

from bot.app import build_bot, build_dispatcher
from bot.config import Settings
from bot.emulator import BotApiEmulator, ChatMessage
from bot.emulator.persistence import ChatArchive
from bot.emulator.tracking import ProcessedTracker
from bot.fsm_storage import SqlStorage
from bot.i18n import Translator
from bot.logs import RedactingFormatter
from bot.menus import set_chat_menu, set_default_menus
from bot.miniapp.links import miniapp_base
from bot.miniapp.server import add_miniapp_routes
from bot.polling import DurablePolling
from bot.services import Services
from bot.webchat import routes
from bot.webchat.actions import Sandbox
from bot.webchat.clock import DemoClock
from bot.webchat.events import Hub, LogBuffer
from bot.webchat.personas import PERSONAS, prepare_trainee
from bot.webchat.seed import Seeded, seed
from workflow.enums import Role

log = logging.getLogger("zhupei.sandbox")

SANDBOX_TOKEN = "100000:zhupei-sandbox-token"
SAVE_EVERY = 1.0
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def _logging(settings: Settings, hub: Hub) -> LogBuffer:
    """Log lines go to data/sandbox.log and the page's log panel; the terminal gets warnings,
    unless it holds the terminal chat (where they would mix with the bot's messages)."""
    formatter = RedactingFormatter(FORMAT)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    file_handler = logging.FileHandler(settings.data_dir / "sandbox.log", encoding="utf-8")
    buffer = LogBuffer(hub)
    terminal = logging.StreamHandler(sys.stderr)
    terminal.setLevel(logging.CRITICAL if settings.sandbox_terminal else logging.WARNING)
    for handler in (file_handler, buffer, terminal):
        handler.setFormatter(formatter)
    logging.getLogger().handlers[:] = [file_handler, buffer, terminal]
    return buffer


async def _prepare_personas(sandbox: Sandbox, seeded: Seeded, bot: Bot) -> None:
    """First start, before the outbox sender runs: the trainees are brought to their stage
    (their notices wait in the outbox), then every persona opens its chat, the staff through
    their invitation link; a registered trainee gets the trainee menu, as after registering."""
    for persona in PERSONAS:
        if persona.role == "trainee":
            async with sandbox.services.db.transaction() as session:
                await prepare_trainee(sandbox.services.ctx(session), persona)
    for persona in PERSONAS:
        token = seeded.tokens.get(persona.key)
        outcome = await sandbox.send_text(persona.key, f"/start {token}" if token else "/start")
        if outcome.error:
            raise RuntimeError(f"persona {persona.key}: {outcome.error}")
        if persona.role == "trainee" and persona.stage != "new":
            await set_chat_menu(bot, persona.user_id, Role.TRAINEE, Translator("zh-CN"))


async def _save_forever(archive: ChatArchive, sandbox: Sandbox) -> None:
    while True:
        await sandbox.hub.dirty.wait()
        sandbox.hub.dirty.clear()
        await asyncio.to_thread(archive.save, sandbox.emulator.state)
        await asyncio.sleep(SAVE_EVERY)


async def run_web_sandbox(settings: Settings, services: Services) -> None:
    from scheduler import runtime as scheduler_runtime
    from scheduler.sweeps import run_sweep

    hub = Hub()
    logs = _logging(settings, hub)
    clock = DemoClock(settings.data_dir / "sandbox-clock.json")
    if not {"quiet_hours_start", "quiet_hours_end"} & settings.model_fields_set:
        # The demo clock jumps by hours: notices should not wait for the morning.
        no_quiet = {"quiet_hours_start": time(0), "quiet_hours_end": time(0)}
        settings = settings.model_copy(update=no_quiet)
    services = replace(
        services,
        settings=settings,
        clock=clock,
        fsm_storage=SqlStorage(services.db, clock=clock),
    )
    seeded = await seed(services)

    emulator = BotApiEmulator(token=SANDBOX_TOKEN, bot_username=settings.bot_username)
    emulator.processing_timeout = 30.0
    archive = ChatArchive(settings.data_dir / "sandbox-chat")
    if not seeded.fresh and archive.load(emulator.state):
        log.info("sandbox chats restored from %s", archive.index)
    api_url = await emulator.start(settings.sandbox_host, settings.sandbox_port)

    def on_bot_activity(_kind: str, message: ChatMessage) -> None:
        hub.publish({"type": "chat", "user_id": message.chat_id})

    emulator.add_listener(on_bot_activity)
    bot = build_bot(SANDBOX_TOKEN, api_url, settings)
    dp = build_dispatcher(services)
    ProcessedTracker(emulator).install(dp)
    await set_default_menus(bot, miniapp_base(settings))
    sandbox = Sandbox(emulator, services, clock, hub)
    polling = DurablePolling(
        dp,
        bot,
        services.db,
        clock,
        services.cipher,
        concurrency=settings.max_concurrent_updates,
        allowed_updates=dp.resolve_used_update_types(),
    )
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, polling.stop)
    tasks = [
        asyncio.create_task(polling.run(), name="polling"),
        asyncio.create_task(sandbox.watch_problems(), name="problems"),
        asyncio.create_task(_save_forever(archive, sandbox), name="chat-archive"),
    ]
    web_runner = None
    background = None
    try:
        await polling.started.wait()
        if seeded.fresh:
            print("Sandbox: demo data loaded; preparing the personas…", flush=True)
            await _prepare_personas(sandbox, seeded, bot)
        background = await scheduler_runtime.start(services, bot)

        async def sweep_now() -> None:
            await run_sweep(services)
            background.sender.wake()  # rows that waited for the demo time may be due now

        sandbox.wake_sender, sandbox.sweep = background.sender.wake, sweep_now
        web_app = routes.build_app(sandbox, logs)
        add_miniapp_routes(web_app, services, bot_token=SANDBOX_TOKEN)
        web_runner = await routes.serve(web_app, settings.sandbox_host, settings.sandbox_web_port)
        port = routes.bound_port(web_runner)
        if port != settings.sandbox_web_port and settings.sandbox_web_port:
            print(f"Sandbox: port {settings.sandbox_web_port} is taken, using {port}.")
        address = f"http://{settings.sandbox_host}:{port}"
        print(f"Sandbox web chat: {address}", flush=True)
        print(f"Log: {settings.data_dir / 'sandbox.log'} · Bot API emulator: {api_url}", flush=True)
        log.info("sandbox web chat at %s", address)
        if settings.sandbox_terminal and sys.stdin.isatty():
            from bot.sandbox import terminal_chat

            tasks.append(
                asyncio.create_task(terminal_chat(emulator, archive), name="terminal-chat")
            )
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            task.result()
    finally:
        polling.stop()
        for task in tasks[1:]:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await scheduler_runtime.stop(background)
        await asyncio.to_thread(archive.save, emulator.state)
        if web_runner is not None:
            await web_runner.cleanup()
        await bot.session.close()
        await emulator.stop()
