"""What the page hears live: a small publish/subscribe hub feeding the server-sent events, and
the log lines of the running sandbox kept for the page's log panel."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import Any

LOG_LINES = 400


class Hub:
    """Every subscriber gets every event (a dict); a slow subscriber loses the oldest ones."""

    def __init__(self) -> None:
        self._queues: set[asyncio.Queue[dict[str, Any]]] = set()
        self.dirty = asyncio.Event()  # something to save changed

    def subscribe(self) -> asyncio.Queue[dict[str, Any]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=500)
        self._queues.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[dict[str, Any]]) -> None:
        self._queues.discard(queue)

    def publish(self, event: dict[str, Any], changed: bool = True) -> None:
        if changed:
            self.dirty.set()
        for queue in list(self._queues):
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(event)


class LogBuffer(logging.Handler):
    """Keeps the last log lines (already redacted by its formatter) and publishes each one."""

    def __init__(self, hub: Hub, level: int = logging.INFO) -> None:
        super().__init__(level)
        self.hub = hub
        self.loop = asyncio.get_running_loop()
        self.lines: deque[dict[str, Any]] = deque(maxlen=LOG_LINES)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = {"level": record.levelname, "text": self.format(record)}
        except Exception:  # never let logging break the bot
            return
        self.lines.append(line)
        # Records may come from worker threads; the hub's queues belong to the loop.
        if not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self.hub.publish, {"type": "log", **line}, False)
