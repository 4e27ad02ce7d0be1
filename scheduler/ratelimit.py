"""The sender's rate limits: at most `rate` requests in any second overall, and one request per
`per_chat` seconds in a chat; a 429's retry_after pauses everything.

Each limit is counted from the moment the earlier request *completed* (its answer arrived).
Telegram received that request before it answered, and receives the next one after it is made,
so the gap Telegram sees is never shorter than the gap enforced here: the limits hold as
Telegram measures them, whatever the network's jitter.

`RateLimiter` is one process's (one sender making one request at a time); `SharedRateLimiter`
keeps the same limits in Redis for several senders at once (`REDIS_URL`). Both have the sender's
interface: `acquire(chat)` before a request, `release(slot, chat)` when it completed, `pause`.
"""

from __future__ import annotations

import asyncio
import math
import time
import uuid
from collections import deque
from collections.abc import Callable
from typing import Any


class RateLimiter:
    shared = False

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

    async def acquire(self, chat_id: int | None) -> None:
        await self.wait(chat_id)

    async def release(self, slot: object, chat_id: int | None, *, count_chat: bool = True) -> None:
        self.done(chat_id if count_chat else None)

    async def close(self) -> None:
        return None

    async def hold(self, seconds: float) -> None:
        self.pause(seconds)

    def pause(self, seconds: float) -> None:
        """Telegram said 429: nothing is sent before `seconds` have passed."""
        self._paused_until = max(self._paused_until, self.clock() + seconds)

    def cooling_chats(self) -> set[int]:
        """Chats that may not receive a message yet."""
        now = self.clock()
        return {c for c, t in self._chat_done.items() if t + self.per_chat > now}


# --- several senders: one limit shared through Redis -----------------------------------------

# KEYS: the window (a sorted set of requests), the chat's ready-at key, the pause key.
# ARGV: burst, period ms, in-flight ms, member, per-chat ms. Redis's own clock (TIME) is the
# only clock, so the senders' clocks do not matter. A request in flight is scored in the future
# (now + the in-flight bound) until it completes and gets its completion time: as with the
# single sender, every limit is counted from the moment the earlier request completed.
# Returns 0 (go) or the ms to wait.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local burst, period = tonumber(ARGV[1]), tonumber(ARGV[2])
local inflight, member, per_chat = tonumber(ARGV[3]), ARGV[4], tonumber(ARGV[5])
local paused = tonumber(redis.call('GET', KEYS[3]) or '0')
if paused > now then return paused - now end
local ready = tonumber(redis.call('GET', KEYS[2]) or '0')
if ready > now + per_chat then return 20 end  -- in flight: look again soon
if ready > now then return ready - now end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - period)
if redis.call('ZCARD', KEYS[1]) >= burst then
  local oldest = tonumber(redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2])
  if oldest > now then return 20 end
  return math.max(oldest + period - now, 1)
end
redis.call('ZADD', KEYS[1], now + inflight, member)
redis.call('PEXPIRE', KEYS[1], period + inflight + 1000)
redis.call('SET', KEYS[2], now + inflight, 'PX', inflight)
return 0
"""

# KEYS: the window, the chat's ready-at key. ARGV: member, per-chat ms (-1: the chat is not
# counted, as after a 429), period ms. The request completed now.
_DONE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local per_chat = tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], 'XX', now, ARGV[1])
if per_chat > 0 then
  redis.call('SET', KEYS[2], now + per_chat, 'PX', per_chat)
else
  redis.call('DEL', KEYS[2])
end
return 0
"""

# KEYS: the pause key. ARGV: ms. Extends the pause, never shortens it.
_PAUSE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local until_ = now + tonumber(ARGV[1])
local paused = tonumber(redis.call('GET', KEYS[1]) or '0')
if until_ > paused then redis.call('SET', KEYS[1], until_, 'PX', tonumber(ARGV[1]) + 1000) end
return 0
"""

IN_FLIGHT_MS = 90_000  # longer than any request: a sender that died mid-request frees its slot


class SharedRateLimiter:
    """The same limits for every sender of one bot, kept in Redis: `rate` requests per second
    across all of them together, and `per_chat` seconds between two requests to a chat whichever
    sender makes them; a 429 pauses them all. Each acquire and release is one Lua script, atomic
    in Redis."""

    shared = True

    def __init__(
        self,
        redis: Any,
        namespace: str,
        rate_per_second: float,
        per_chat_seconds: float,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.local = RateLimiter(rate_per_second, per_chat_seconds, clock=clock)
        self.redis = redis
        self.prefix = f"zhupei:ratelimit:{namespace}"
        self.per_chat = per_chat_seconds
        self.clock = clock
        self._acquire = redis.register_script(_ACQUIRE)
        self._done = redis.register_script(_DONE)
        self._pause = redis.register_script(_PAUSE)

    def _chat_key(self, chat_id: int | None) -> str:
        return f"{self.prefix}:chat:{'none' if chat_id is None else chat_id}"

    def chat_ready_at(self, chat_id: int | None) -> float:
        """This sender's own view (a hint for picking which row to send next); Redis decides."""
        return self.local.chat_ready_at(chat_id)

    async def acquire(self, chat_id: int | None) -> str:
        member = uuid.uuid4().hex
        keys = [f"{self.prefix}:window", self._chat_key(chat_id), f"{self.prefix}:pause"]
        period_ms, per_chat_ms = round(self.local.period * 1000), round(self.per_chat * 1000)
        args = [self.local.burst, period_ms, IN_FLIGHT_MS, member, per_chat_ms]
        # The script says how long: the exact time when a completed request blocks, a short
        # poll while a request in flight does.
        while wait_ms := int(await self._acquire(keys=keys, args=args)):  # noqa: ASYNC110
            await asyncio.sleep(wait_ms / 1000)
        return member

    async def release(self, slot: object, chat_id: int | None, *, count_chat: bool = True) -> None:
        per_chat = round(self.per_chat * 1000) if count_chat and chat_id is not None else -1
        await self._done(
            keys=[f"{self.prefix}:window", self._chat_key(chat_id)],
            args=[str(slot), per_chat, round(self.local.period * 1000)],
        )
        self.local.done(chat_id if count_chat else None)

    async def hold(self, seconds: float) -> None:
        """Telegram said 429: no sender sends before `seconds` have passed."""
        self.local.pause(seconds)
        await self._pause(keys=[f"{self.prefix}:pause"], args=[max(round(seconds * 1000), 1)])

    async def close(self) -> None:
        await self.redis.aclose()


def limiter_for(
    rate_per_second: float, per_chat_seconds: float, redis_url: str | None, namespace: str
) -> RateLimiter | SharedRateLimiter:
    """The shared limiter with Redis (several senders), the process's own without."""
    if not redis_url:
        return RateLimiter(rate_per_second, per_chat_seconds)
    from redis.asyncio import Redis

    return SharedRateLimiter(
        Redis.from_url(redis_url), namespace, rate_per_second, per_chat_seconds
    )
