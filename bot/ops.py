"""Health and metrics over HTTP: `GET /healthz` and `GET /metrics`.

In webhook mode the routes join the webhook's aiohttp application (`ops_routes`); in polling
mode `start_ops_server` serves them on OPS_HOST:OPS_PORT. `probes` name the background parts
that must be alive (the scheduler, the outbox sender): each is a callable returning whether it
is, such as a `Heartbeat` the part beats or `background_probes(handle)` of scheduler.runtime.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot import metrics
from bot.services import Services

log = logging.getLogger(__name__)

Probe = Callable[[], bool | Awaitable[bool]]
CHECK_TIMEOUT = 5.0


class Heartbeat:
    """Alive while `beat()` was called within `max_age` seconds."""

    def __init__(self, max_age: float) -> None:
        self.max_age = max_age
        self._last: float | None = None

    def beat(self) -> None:
        self._last = time.monotonic()

    def __call__(self) -> bool:
        return self._last is not None and time.monotonic() - self._last <= self.max_age


def background_probes(background: Any) -> dict[str, Probe]:
    """Probes for scheduler.runtime's `Background`: the APScheduler runs, the sender task lives."""
    return {
        "scheduler": lambda: bool(background.scheduler.running),
        "sender": lambda: not background.sender_task.done(),
    }


async def _database(services: Services) -> None:
    db = services.db
    if db.backend == "sqlite":
        # An open connection keeps reading a deleted file: check that the file is still there.
        database = make_url(db.url).database
        if database and database != ":memory:" and not os.path.exists(database):  # noqa: ASYNC240 - a stat
            raise FileNotFoundError("the database file is gone")
    async with db.engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


async def _redis(url: str) -> None:
    from redis.asyncio import Redis

    client = Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        if not await client.ping():
            raise ConnectionError("no PONG")
    finally:
        await client.aclose()


async def _probe(probe: Probe) -> None:
    result = probe()
    if inspect.isawaitable(result):
        result = await result
    if not result:
        raise RuntimeError("not alive")


async def check_health(
    services: Services, probes: Mapping[str, Probe]
) -> tuple[bool, dict[str, str]]:
    """Each part's state: "ok", or what failed (an exception class, never a URL or a secret)."""
    checks: dict[str, Awaitable[None]] = {"database": _database(services)}
    if services.settings.redis_url:
        checks["redis"] = _redis(services.settings.redis_url)
    for name, probe in probes.items():
        checks[name] = _probe(probe)

    async def run(name: str, check: Awaitable[None]) -> tuple[str, str]:
        try:
            async with asyncio.timeout(CHECK_TIMEOUT):
                await check
        except Exception as exc:
            reason = "timeout" if isinstance(exc, TimeoutError) else type(exc).__name__
            detail = str(exc) if isinstance(exc, FileNotFoundError | RuntimeError) else ""
            return name, f"failed: {reason}" + (f" ({detail})" if detail else "")
        return name, "ok"

    results = dict(await asyncio.gather(*(run(n, c) for n, c in checks.items())))
    return all(v == "ok" for v in results.values()), results


def ops_routes(services: Services, probes: Mapping[str, Probe] | None = None) -> list[web.RouteDef]:
    """`GET /healthz` (200 or 503, JSON) and `GET /metrics` (Prometheus text)."""
    probes = dict(probes or {})

    async def healthz(request: web.Request) -> web.Response:
        ok, checks = await check_health(services, probes)
        if not ok:
            failed = ", ".join(n for n, v in checks.items() if v != "ok")
            log.warning("health check failed: %s", failed)
            metrics.record_error("health_check")
        return web.json_response(
            {"status": "ok" if ok else "failed", "checks": checks}, status=200 if ok else 503
        )

    async def metrics_page(request: web.Request) -> web.Response:
        try:
            await metrics.refresh_outbox_gauges(services.db, services.clock.now())
        except Exception:
            log.exception("the outbox gauges could not be read")
            metrics.record_error("metrics_outbox_query")
        body, content_type = metrics.generate_latest()
        response = web.Response(body=body)
        response.headers["Content-Type"] = content_type
        return response

    return [web.get("/healthz", healthz), web.get("/metrics", metrics_page)]


def ops_app(services: Services, probes: Mapping[str, Probe] | None = None) -> web.Application:
    """The routes as an application of their own (to `add_subapp` or to serve)."""
    app = web.Application()
    app.add_routes(ops_routes(services, probes))
    return app


async def start_ops_server(
    host: str,
    port: int,
    services: Services,
    probes: Mapping[str, Probe] | None = None,
    extra_routes: Callable[[web.Application], None] | None = None,
) -> web.AppRunner:
    """Serve /healthz and /metrics (and `extra_routes`, such as the Mini App) until
    `await runner.cleanup()`; port 0 picks a free one (`runner.addresses`)."""
    app = ops_app(services, probes)
    if extra_routes is not None:
        extra_routes(app)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    log.info("health and metrics on http://%s:%s/healthz and /metrics", host, port)
    return runner
