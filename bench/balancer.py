"""A small round-robin reverse proxy for webhook requests, as a load balancer in front of
several bot instances does it (Caddy's `lb_policy round_robin`, nginx's `upstream`):

- each request goes to the next upstream in turn;
- an upstream that refuses the connection (it is down) is marked down for `down_seconds` and
  the request goes to the next one at once (`lb_try_duration`, `proxy_next_upstream error`);
- a request that reached an upstream which then failed (the connection broke mid-request) is
  not sent again, as nginx does not resend a POST: the client gets 502 and retries itself
  (Telegram delivers the update again);
- with no upstream reachable the answer is 502.

    .venv/bin/python -m bench.balancer --port 8443 http://127.0.0.1:8081 http://127.0.0.1:8082
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import logging
import time
from collections import Counter
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web

log = logging.getLogger(__name__)

# Headers that belong to one hop, never forwarded (RFC 9110 §7.6.1).
HOP_HEADERS = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
}


@dataclass
class Upstream:
    url: str
    down_until: float = 0.0
    requests: int = 0  # answered by this upstream
    refused: int = 0  # connection refused or not accepted in time
    broken: int = 0  # failed after the request reached it

    def up(self, now: float) -> bool:
        return now >= self.down_until


@dataclass
class Balancer:
    upstreams: list[Upstream]
    down_seconds: float = 2.0
    connect_timeout: float = 1.0
    request_timeout: float = 90.0
    statuses: Counter[int] = field(default_factory=Counter)
    _turn: itertools.count[int] = field(default_factory=itertools.count)
    _session: aiohttp.ClientSession | None = None
    _runner: web.AppRunner | None = None
    url: str | None = None

    @classmethod
    def of(cls, urls: list[str], **kwargs: float) -> Balancer:
        return cls([Upstream(u.rstrip("/")) for u in urls], **kwargs)

    def _order(self) -> list[Upstream]:
        """The upstreams to try for one request: round robin, the ones marked down last."""
        start = next(self._turn) % len(self.upstreams)
        ring = self.upstreams[start:] + self.upstreams[:start]
        now = time.monotonic()
        return [u for u in ring if u.up(now)] + [u for u in ring if not u.up(now)]

    async def handle(self, request: web.Request) -> web.StreamResponse:
        assert self._session is not None
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_HEADERS}
        headers["X-Forwarded-For"] = request.remote or ""
        for upstream in self._order():
            target = upstream.url + request.rel_url.path_qs
            try:
                async with self._session.request(
                    request.method, target, data=body, headers=headers
                ) as response:
                    payload = await response.read()
                    upstream.requests += 1
                    self.statuses[response.status] += 1
                    out = {
                        k: v for k, v in response.headers.items() if k.lower() not in HOP_HEADERS
                    }
                    return web.Response(status=response.status, body=payload, headers=out)
            except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError):
                # Never reached it: mark it down and try the next one.
                upstream.refused += 1
                upstream.down_until = time.monotonic() + self.down_seconds
                continue
            except (aiohttp.ClientError, TimeoutError) as exc:
                # It had the request and failed: the client decides whether to send it again.
                upstream.broken += 1
                upstream.down_until = time.monotonic() + self.down_seconds
                log.info("upstream %s failed mid-request: %s", upstream.url, exc)
                self.statuses[502] += 1
                return web.Response(status=502, text="upstream failed")
        self.statuses[502] += 1
        return web.Response(status=502, text="no upstream reachable")

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        timeout = aiohttp.ClientTimeout(
            total=self.request_timeout, sock_connect=self.connect_timeout
        )
        connector = aiohttp.TCPConnector(limit=0, force_close=False)
        self._session = aiohttp.ClientSession(timeout=timeout, connector=connector)
        app = web.Application(client_max_size=20 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self.handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound_host, bound_port = self._runner.addresses[0][:2]
        self.url = f"http://{bound_host}:{bound_port}"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> Balancer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()


async def _serve(host: str, port: int, upstreams: list[str]) -> None:
    balancer = Balancer.of(upstreams)
    url = await balancer.start(host, port)
    print(f"balancing {', '.join(upstreams)} on {url}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await balancer.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8443)
    parser.add_argument("upstreams", nargs="+", help="base URLs of the instances")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.host, args.port, args.upstreams))


if __name__ == "__main__":
    main()
