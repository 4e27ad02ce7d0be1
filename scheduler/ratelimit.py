"""The sender's rate limits: at most `rate` requests in any second overall, and one request per
`per_chat` seconds in a chat; a 429's retry_after pauses everything.

The sender makes one request at a time, and each limit is counted from the moment the earlier
request *completed* (its answer arrived). Telegram received that request before it answered, and
receives the next one after it is made, so the gap Telegram sees is never shorter than the gap
enforced here: the limits hold as Telegram measures them, whatever the network's jitter.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Callable


class RateLimiter:
    def __init__(
        self,
        rate_per_second: float,
        per_chat_seconds: float,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate_per_second <= 0:
            raise ValueError("the rate must be positive")
        # `burst` requests per `period`: 25/s → 25 per 1 s; 0.5/s → 1 per 2 s.
        if rate_per_second >= 1:
            self.burst, self.period = math.floor(rate_per_second), 1.0
        else:
            self.burst, self.period = 1, 1.0 / rate_per_second
        self.per_chat = per_chat_seconds
        self.clock = clock
        self._recent: deque[float] = deque(maxlen=self.burst)
        self._chat_done: dict[int, float] = {}
        self._paused_until = 0.0

    def chat_ready_at(self, chat_id: int | None) -> float:
        if chat_id is None:
            return 0.0
        done = self._chat_done.get(chat_id)
        return 0.0 if done is None else done + self.per_chat

    def ready_at(self, chat_id: int | None) -> float:
        at = max(self._paused_until, self.chat_ready_at(chat_id))
        if len(self._recent) == self.burst:
            at = max(at, self._recent[0] + self.period)
        return at

    async def wait(self, chat_id: int | None) -> None:
        # A 429 may extend the pause while we sleep: look again after each sleep.
        while (delay := self.ready_at(chat_id) - self.clock()) > 0:  # noqa: ASYNC110
            await asyncio.sleep(delay)

    def done(self, chat_id: int | None) -> None:
        """A request finished (whatever its outcome): it counts against both limits."""
        now = self.clock()
        self._recent.append(now)
        if chat_id is not None:
            self._chat_done[chat_id] = now
            if len(self._chat_done) > 10_000:
                horizon = now - self.per_chat
                self._chat_done = {c: t for c, t in self._chat_done.items() if t > horizon}

    def pause(self, seconds: float) -> None:
        """Telegram said 429: nothing is sent before `seconds` have passed."""
        self._paused_until = max(self._paused_until, self.clock() + seconds)

    def cooling_chats(self) -> set[int]:
        """Chats that may not receive a message yet."""
        now = self.clock()
        return {c for c, t in self._chat_done.items() if t + self.per_chat > now}
