"""Webhook delivery as Telegram does it: after setWebhook, every update is POSTed to the URL with
the secret token header, several at once (max_connections), and retried until the bot answers
2xx; getUpdates is refused while a webhook is set."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bot.emulator.updates import UpdateQueue, UpdateRecord

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
DEFAULT_MAX_CONNECTIONS = 40


@dataclass
class Delivery:
    """One POST of an update, as the bot answered it (for tests)."""

    update_id: int
    status: int | None  # None: the connection failed
    started: float
    ended: float


@dataclass
class WebhookDelivery:
    queue: UpdateQueue
    url: str
    secret: str | None = None
    max_connections: int = DEFAULT_MAX_CONNECTIONS
    retry_delay: float = 0.5
    request_timeout: float = 60.0
    deliveries: list[Delivery] = field(default_factory=list)
    last_error: str | None = None
    _task: asyncio.Task[None] | None = None
    _in_flight: set[int] = field(default_factory=set)
    _stopping: bool = False

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="emulator-webhook")

    async def stop(self) -> None:
        # Python 3.11's wait_for can swallow a cancellation that coincides with the queue's
        # change (closing the queue notifies): the loop also ends on this flag.
        self._stopping = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    @property
    def pending_count(self) -> int:
        return len(self.queue.deliverable())

    async def _run(self) -> None:
        slots = asyncio.Semaphore(self.max_connections)
        timeout = aiohttp.ClientTimeout(total=self.request_timeout)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            tasks: set[asyncio.Task[None]] = set()
            try:
                while not self._stopping:
                    for record in self.queue.deliverable():
                        if record.update_id in self._in_flight:
                            continue
                        await slots.acquire()
                        self._in_flight.add(record.update_id)
                        task = asyncio.create_task(self._deliver(session, record, slots))
                        tasks.add(task)
                        task.add_done_callback(tasks.discard)
                    await self.queue.changed(0.05)
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)

    async def _deliver(
        self, session: aiohttp.ClientSession, record: UpdateRecord, slots: asyncio.Semaphore
    ) -> None:
        headers = {SECRET_HEADER: self.secret} if self.secret else {}
        try:
            while True:
                started = time.monotonic()
                status: int | None = None
                try:
                    async with session.post(self.url, json=record.payload, headers=headers) as r:
                        status = r.status
                        await r.read()
                except (aiohttp.ClientError, TimeoutError) as exc:
                    self.last_error = f"{type(exc).__name__}: {exc}"
                self.deliveries.append(
                    Delivery(record.update_id, status, started, time.monotonic())
                )
                if status is not None and 200 <= status < 300:
                    record.fetched_at = record.fetched_at or started
                    self.queue.remove(record)
                    return
                if status is not None:
                    self.last_error = f"HTTP {status}"
                await asyncio.sleep(self.retry_delay)
        finally:
            self._in_flight.discard(record.update_id)
            slots.release()

    def info(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            "url": self.url,
            "has_custom_certificate": False,
            "pending_update_count": self.pending_count,
            "max_connections": self.max_connections,
        }
        if self.last_error:
            result["last_error_date"] = int(time.time())
            result["last_error_message"] = self.last_error
        return result
