"""Rate cells (GCRA, the generic cell rate algorithm): `burst` events at once, then `rate` per
second. One number per key, the theoretical arrival time of the next event, so a cell costs one
entry in memory or one Redis key, and one atomic step per event.

`LocalCells` holds them in the process; `RedisCells` in Redis (`REDIS_URL`) for all instances
of the bot together, on Redis's own clock. Two uses:

- `admit(key)` says whether an event fits now (a refused one does not count): flood control.
- `reserve(key)` takes the next free slot and says how long to wait for it: pacing messages
  to one chat.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Protocol

MAX_LOCAL_KEYS = 100_000


class Cells(Protocol):
    async def admit(self, key: str) -> bool: ...

    async def reserve(self, key: str) -> float: ...

    async def once(self, key: str, seconds: float) -> bool: ...

    async def close(self) -> None: ...


class LocalCells:
    def __init__(
        self,
        burst: int,
        rate_per_second: float,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if burst < 1 or rate_per_second <= 0:
            raise ValueError("burst must be at least 1 and the rate positive")
        self.interval = 1.0 / rate_per_second
        self.tolerance = (burst - 1) * self.interval
        self.clock = clock
        self._tat: OrderedDict[str, float] = OrderedDict()
        self._once: OrderedDict[str, float] = OrderedDict()

    def _remember(self, table: OrderedDict[str, float], key: str, value: float) -> None:
        table[key] = value
        table.move_to_end(key)
        while len(table) > MAX_LOCAL_KEYS:
            table.popitem(last=False)

    async def admit(self, key: str) -> bool:
        now = self.clock()
        tat = max(self._tat.get(key, now), now)
        if tat - now > self.tolerance:
            return False
        self._remember(self._tat, key, tat + self.interval)
        return True

    async def reserve(self, key: str) -> float:
        now = self.clock()
        tat = max(self._tat.get(key, now), now)
        self._remember(self._tat, key, tat + self.interval)
        return max(0.0, tat - self.tolerance - now)

    async def once(self, key: str, seconds: float) -> bool:
        """True the first time in `seconds` for this key."""
        now = self.clock()
        until = self._once.get(key)
        if until is not None and until > now:
            return False
        self._remember(self._once, key, now + seconds)
        return True

    async def close(self) -> None:
        return None


# KEYS: the cell. ARGV: interval ms, tolerance ms, mode (1 reserve, 0 admit).
# Returns -1 (admit: refused) or the ms to wait (0: now).
_STEP = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval, tolerance = tonumber(ARGV[1]), tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local wait = tat - tolerance - now
if ARGV[3] == '0' and wait > 0 then return -1 end
local nxt = tat + interval
redis.call('SET', KEYS[1], nxt, 'PX', math.max(nxt - now, 1))
if wait < 0 then return 0 end
return wait
"""


class RedisCells:
    def __init__(
        self,
        redis: Any,
        prefix: str,
        burst: int,
        rate_per_second: float,
        *,
        owns_client: bool = True,
    ) -> None:
        if burst < 1 or rate_per_second <= 0:
            raise ValueError("burst must be at least 1 and the rate positive")
        self.redis = redis
        self.prefix = prefix
        self.interval_ms = max(round(1000 / rate_per_second), 1)
        self.tolerance_ms = (burst - 1) * self.interval_ms
        self.owns_client = owns_client
        self._step = redis.register_script(_STEP)

    async def _run(self, key: str, mode: str) -> int:
        args = [self.interval_ms, self.tolerance_ms, mode]
        return int(await self._step(keys=[f"{self.prefix}:{key}"], args=args))

    async def admit(self, key: str) -> bool:
        return await self._run(key, "0") >= 0

    async def reserve(self, key: str) -> float:
        return await self._run(key, "1") / 1000

    async def once(self, key: str, seconds: float) -> bool:
        ms = max(round(seconds * 1000), 1)
        return bool(await self.redis.set(f"{self.prefix}:once:{key}", 1, nx=True, px=ms))

    async def close(self) -> None:
        if self.owns_client:
            await self.redis.aclose()


def cells_for(
    redis_url: str | None, prefix: str, burst: int, rate_per_second: float
) -> LocalCells | RedisCells:
    if not redis_url:
        return LocalCells(burst, rate_per_second)
    from redis.asyncio import Redis

    return RedisCells(Redis.from_url(redis_url), prefix, burst, rate_per_second)
