"""/healthz and /metrics over real HTTP: the database, Redis and the background parts checked
for real; the outbox gauges read from the rows in the database."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, Router
from aiogram.types import Message, Update

from bot.config import Settings
from bot.fsm_storage import SqlStorage
from bot.metrics import MetricsMiddleware, record_403, record_429, record_sent
from bot.ops import Heartbeat, Probe, start_ops_server
from bot.services import Services
from storage.crypto import FieldCipher
from storage.db import Database
from storage.models import Account, OutboxMessage
from tests.conftest import redis_url_or_skip
from workflow.clock import FrozenClock
from workflow.enums import Role

METRIC_NAMES = (
    "zhupei_updates_total",
    "zhupei_handler_seconds",
    "zhupei_errors_total",
    "zhupei_outbox_depth",
    "zhupei_outbox_oldest_age_seconds",
    "zhupei_messages_sent_total",
    "zhupei_telegram_429_total",
    "zhupei_telegram_403_total",
    "zhupei_sweep_seconds",
)


def services_for(
    db: Database, cipher: FieldCipher, clock: FrozenClock, **settings: Any
) -> Services:
    return Services(
        settings=Settings(_env_file=None, **settings),  # type: ignore[call-arg]
        db=db,
        cipher=cipher,
        clock=clock,
        fsm_storage=SqlStorage(db, clock=clock),
    )


class Ops:
    def __init__(self, url: str, http: aiohttp.ClientSession) -> None:
        self.url, self.http = url, http

    async def get(self, path: str) -> tuple[int, Any]:
        async with self.http.get(self.url + path) as response:
            if response.content_type == "application/json":
                return response.status, await response.json()
            return response.status, await response.text()


async def serve(services: Services, probes: Mapping[str, Probe] | None = None) -> Any:
    runner = await start_ops_server("127.0.0.1", 0, services, probes)
    host, port = runner.addresses[0][:2]
    return runner, f"http://{host}:{port}"


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def test_healthz_ok_with_database_redis_and_live_parts(
    db: Database, cipher: FieldCipher, clock: FrozenClock, http: aiohttp.ClientSession
) -> None:
    services = services_for(db, cipher, clock, redis_url=redis_url_or_skip())
    sender = Heartbeat(max_age=30)
    sender.beat()
    runner, url = await serve(services, {"scheduler": lambda: True, "sender": sender})
    try:
        status, body = await Ops(url, http).get("/healthz")
    finally:
        await runner.cleanup()
    assert status == 200
    assert body == {
        "status": "ok",
        "checks": {"database": "ok", "redis": "ok", "scheduler": "ok", "sender": "ok"},
    }


async def test_healthz_503_names_an_unreachable_redis_and_a_dead_sender(
    db: Database, cipher: FieldCipher, clock: FrozenClock, http: aiohttp.ClientSession
) -> None:
    services = services_for(db, cipher, clock, redis_url="redis://:secret@127.0.0.1:1/0")
    runner, url = await serve(services, {"sender": Heartbeat(max_age=30)})  # never beaten
    try:
        status, body = await Ops(url, http).get("/healthz")
    finally:
        await runner.cleanup()
    assert status == 503
    assert body["status"] == "failed"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["redis"].startswith("failed")
    assert body["checks"]["sender"].startswith("failed")
    assert "secret" not in str(body)


async def test_healthz_503_when_the_database_is_gone(
    database_url: str,
    cipher: FieldCipher,
    clock: FrozenClock,
    data_dir: Path,
    http: aiohttp.ClientSession,
) -> None:
    if database_url.startswith("sqlite"):
        db = Database(database_url)
        async with db.engine.connect() as conn:  # the pool holds an open connection
            await conn.exec_driver_sql("SELECT 1")
        for path in data_dir.glob("zhupei.db*"):  # noqa: ASYNC240
            path.unlink()
    else:  # PostgreSQL: a database that does not exist
        db = Database(re.sub(r"/[^/]+$", "/zhupei_no_such_database", database_url))
    services = services_for(db, cipher, clock)
    runner, url = await serve(services)
    try:
        status, body = await Ops(url, http).get("/healthz")
    finally:
        await runner.cleanup()
        await db.dispose()
    assert status == 503
    assert body["checks"]["database"].startswith("failed")


async def add_outbox(db: Database, clock: FrozenClock) -> None:
    now = clock.now()
    async with db.transaction() as session:
        account = Account(role=Role.TRAINEE, display_name="张三", created_at=now)
        session.add(account)
        await session.flush()
        for i, (status, age) in enumerate(
            [("pending", 300), ("pending", 60), ("sending", 10), ("sent", 3600)]
        ):
            session.add(
                OutboxMessage(
                    dedupe_key=f"k{i}",
                    account_id=account.id,  # type: ignore[arg-type]
                    kind="test",
                    status=status,
                    created_at=now - timedelta(seconds=age),
                )
            )


def sample(text: str, name: str, labels: str = "") -> float:
    match = re.search(rf"^{re.escape(name + labels)} (\S+)$", text, re.MULTILINE)
    assert match, f"{name}{labels} not in the exposition"
    return float(match.group(1))


async def test_metrics_text_and_outbox_gauges_from_the_database(
    db: Database, cipher: FieldCipher, clock: FrozenClock, http: aiohttp.ClientSession
) -> None:
    services = services_for(db, cipher, clock)
    runner, url = await serve(services)
    try:
        status, text = await Ops(url, http).get("/metrics")
        assert status == 200
        assert sample(text, "zhupei_outbox_depth") == 0
        assert sample(text, "zhupei_outbox_oldest_age_seconds") == 0
        sent_before = sample(text, "zhupei_messages_sent_total")

        await add_outbox(db, clock)
        record_sent()
        record_429()
        record_403()
        status, text = await Ops(url, http).get("/metrics")
    finally:
        await runner.cleanup()
    for name in METRIC_NAMES:
        assert f"# TYPE {name.removesuffix('_total')}" in text, name
    assert sample(text, "zhupei_outbox_depth") == 3  # pending and claimed, not sent
    assert sample(text, "zhupei_outbox_oldest_age_seconds") == pytest.approx(300, abs=1)
    assert sample(text, "zhupei_messages_sent_total") == sent_before + 1


async def test_middleware_counts_updates_and_errors() -> None:
    from prometheus_client import REGISTRY

    router = Router()

    @router.message()
    async def echo(message: Message) -> None:
        if message.text == "boom":
            raise LookupError("boom")

    dp = Dispatcher()
    dp.update.outer_middleware(MetricsMiddleware())
    dp.include_router(router)
    bot = Bot("123456:test")

    def value(name: str, **labels: str) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0.0

    def update(update_id: int, text: str) -> Update:
        return Update.model_validate(
            {
                "update_id": update_id,
                "message": {
                    "message_id": update_id,
                    "date": 0,
                    "chat": {"id": 1, "type": "private"},
                    "from": {"id": 1, "is_bot": False, "first_name": "A"},
                    "text": text,
                },
            }
        )

    before = value("zhupei_updates_total", type="message")
    errors = value("zhupei_errors_total", kind="LookupError")
    latency = value("zhupei_handler_seconds_count", type="message")
    try:
        await dp.feed_update(bot, update(1, "hello"))
        with pytest.raises(LookupError):
            await dp.feed_update(bot, update(2, "boom"))
    finally:
        await bot.session.close()
    assert value("zhupei_updates_total", type="message") == before + 2
    assert value("zhupei_handler_seconds_count", type="message") == latency + 2
    assert value("zhupei_errors_total", kind="LookupError") == errors + 1


async def test_background_probes_follow_the_running_scheduler_and_sender(
    db: Database, cipher: FieldCipher, clock: FrozenClock
) -> None:
    from bot.ops import background_probes, check_health
    from scheduler import runtime

    services = services_for(db, cipher, clock)
    bot = Bot("123456:test")  # nothing is due: the sender never calls Telegram
    background = await runtime.start(services, bot)
    try:
        ok, checks = await check_health(services, background_probes(background))
        assert ok and checks == {"database": "ok", "scheduler": "ok", "sender": "ok"}
    finally:
        await runtime.stop(background)
        await bot.session.close()
    ok, checks = await check_health(services, background_probes(background))
    assert not ok
    assert checks["scheduler"].startswith("failed") and checks["sender"].startswith("failed")
