"""Prometheus metrics of the bot, each defined once here; the rest of the code records through
the small functions below, so nothing else imports prometheus_client.

Where they are recorded: `MetricsMiddleware` (an outer update middleware) counts updates and
times handlers; the outbox sender calls `record_sent`, `record_429` and `record_403`; the sweep
records its duration; the outbox gauges are read from the database when /metrics is scraped
(`refresh_outbox_gauges`)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, Histogram
from prometheus_client import generate_latest as _generate_latest
from sqlalchemy import func, select
from sqlmodel import col

from storage.db import Database
from storage.models import OutboxMessage

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)

UPDATES = Counter("zhupei_updates", "Updates handled, by update type", ["type"])
HANDLER_SECONDS = Histogram(
    "zhupei_handler_seconds",
    "Time to handle one update (lock, transaction and handler), by update type",
    ["type"],
    buckets=_LATENCY_BUCKETS,
)
ERRORS = Counter(
    "zhupei_errors", "Errors, by kind (an exception class or a named failure)", ["kind"]
)
OUTBOX_DEPTH = Gauge("zhupei_outbox_depth", "Outbox rows waiting to be sent (pending or claimed)")
OUTBOX_OLDEST_AGE = Gauge(
    "zhupei_outbox_oldest_age_seconds", "Age of the oldest outbox row waiting to be sent (0: none)"
)
MESSAGES_SENT = Counter("zhupei_messages_sent", "Messages sent to Telegram by the outbox sender")
TELEGRAM_429 = Counter("zhupei_telegram_429", "Telegram answers 429 Too Many Requests")
TELEGRAM_403 = Counter("zhupei_telegram_403", "Telegram answers 403 Forbidden (bot blocked)")
SWEEP_SECONDS = Histogram(
    "zhupei_sweep_seconds",
    "Duration of one deadline sweep",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
)

WAITING = ("pending", "sending")


def record_update(update_type: str, seconds: float) -> None:
    UPDATES.labels(update_type).inc()
    HANDLER_SECONDS.labels(update_type).observe(seconds)


def record_error(kind: str) -> None:
    ERRORS.labels(kind).inc()


def record_sent(count: int = 1) -> None:
    MESSAGES_SENT.inc(count)


def record_429() -> None:
    TELEGRAM_429.inc()


def record_403() -> None:
    TELEGRAM_403.inc()


def record_sweep(seconds: float) -> None:
    SWEEP_SECONDS.observe(seconds)


class MetricsMiddleware(BaseMiddleware):
    """Counts and times every update; an exception escaping the handlers counts as an error of
    its class and is raised on. Register it outermost (`build_dispatcher(outermost=[...])`)."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        kind = event.event_type if isinstance(event, Update) else type(event).__name__.lower()
        started = time.perf_counter()
        try:
            return await handler(event, data)
        except Exception as exc:
            record_error(type(exc).__name__)
            raise
        finally:
            record_update(kind, time.perf_counter() - started)


async def refresh_outbox_gauges(db: Database, now: datetime) -> None:
    """Depth and age of the oldest waiting row, with one query on the outbox's status index."""
    async with db.session() as session:
        row = (
            await session.execute(
                select(func.count(), func.min(OutboxMessage.created_at)).where(
                    col(OutboxMessage.status).in_(WAITING)
                )
            )
        ).one()
    count, oldest = row
    if isinstance(oldest, str):  # SQLite may hand an aggregate back untyped
        oldest = datetime.fromisoformat(oldest)
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)
    OUTBOX_DEPTH.set(count or 0)
    OUTBOX_OLDEST_AGE.set(max(0.0, (now - oldest).total_seconds()) if oldest else 0.0)


def generate_latest() -> tuple[bytes, str]:
    """The Prometheus text exposition of every metric, and its content type."""
    return _generate_latest(REGISTRY), CONTENT_TYPE_LATEST
