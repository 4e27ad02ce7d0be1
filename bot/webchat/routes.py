"""The web chat's HTTP side: the static page, a small JSON API for reading chats and acting,
server-sent events for live changes, and the files the bot sent (downloads, PDF previews,
photos). Served on 127.0.0.1 only: the sandbox has no login."""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

from aiohttp import web

from bot.webchat.actions import ActionError, Outcome, Sandbox
from bot.webchat.events import LogBuffer

STATIC = Path(__file__).with_name("static")
HEARTBEAT_SECONDS = 15.0
MAX_UPLOAD = 20 * 1024 * 1024
SANDBOX_KEY: web.AppKey[Sandbox] = web.AppKey("sandbox", Sandbox)
LOGS_KEY: web.AppKey[LogBuffer] = web.AppKey("logs", LogBuffer)


def _sandbox(request: web.Request) -> Sandbox:
    return request.app[SANDBOX_KEY]


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise web.HTTPBadRequest(text="a JSON body is needed") from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="a JSON object is needed")
    return body


def _int(body: dict[str, Any], key: str) -> int:
    try:
        return int(body[key])
    except (KeyError, TypeError, ValueError):
        raise web.HTTPBadRequest(text=f"{key} must be a number") from None


def _answer(outcome: Outcome) -> web.Response:
    return web.json_response(outcome.view())


async def index(_request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})


async def meta(request: web.Request) -> web.Response:
    return web.json_response(_sandbox(request).meta_view(list(request.app[LOGS_KEY].lines)))


async def chat(request: web.Request) -> web.Response:
    try:
        return web.json_response(_sandbox(request).chat_view(request.match_info["persona"]))
    except ActionError as exc:
        raise web.HTTPNotFound(text=str(exc)) from None


async def act(request: web.Request) -> web.Response:
    sandbox = _sandbox(request)
    key = request.match_info["persona"]
    kind = request.match_info["action"]
    try:
        if kind == "upload":
            return _answer(await _upload(request, sandbox, key))
        body = await _body(request)
        if kind == "send":
            outcome = await sandbox.send_text(key, str(body.get("text", "")))
        elif kind == "press":
            outcome = await sandbox.press(
                key, _int(body, "message_id"), _int(body, "row"), _int(body, "column")
            )
        elif kind == "reply":
            outcome = await sandbox.reply_button(key, _int(body, "row"), _int(body, "column"))
        elif kind == "contact":
            outcome = await sandbox.share_contact(key)
        else:
            raise web.HTTPNotFound()
    except ActionError as exc:
        outcome = Outcome(error=str(exc))
    return _answer(outcome)


async def miniapp(request: web.Request) -> web.Response:
    """Where a Mini App button (inline or the menu's) opens, signed for the persona."""
    body = await _body(request)
    try:
        src = _sandbox(request).open_miniapp(
            request.match_info["persona"], str(body.get("url", "")), str(body.get("lang", ""))
        )
    except ActionError as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None
    return web.json_response({"src": src})


async def _upload(request: web.Request, sandbox: Sandbox, key: str) -> Outcome:
    reader = await request.multipart()
    part = await reader.next()
    if part is None or not isinstance(part, web.BodyPartReader) or not part.filename:
        raise web.HTTPBadRequest(text="a file is needed")
    data = await part.read(decode=False)
    if len(data) > MAX_UPLOAD:
        raise web.HTTPRequestEntityTooLarge(max_size=MAX_UPLOAD, actual_size=len(data))
    mime = part.headers.get("Content-Type", "application/octet-stream")
    return await sandbox.upload(key, Path(part.filename).name, bytes(data), mime)


async def advance(request: web.Request) -> web.Response:
    body = await _body(request)
    try:
        hours = float(body.get("hours", 0))
        clock = await _sandbox(request).advance(hours)
    except (TypeError, ValueError) as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None
    return web.json_response(clock)


async def file(request: web.Request) -> web.Response:
    stored = _sandbox(request).emulator.state.files.get(request.match_info["file_id"])
    if stored is None:
        raise web.HTTPNotFound()
    name = stored.file_name or stored.file_path.rsplit("/", 1)[-1]
    disposition = "attachment" if request.query.get("download") else "inline"
    ascii_name = name.encode("ascii", "replace").decode().replace('"', "")
    return web.Response(
        body=stored.data,
        content_type=stored.mime_type or "application/octet-stream",
        headers={
            "Content-Disposition": (
                f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
            )
        },
    )


async def events(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
    )
    await response.prepare(request)
    hub = _sandbox(request).hub
    queue = hub.subscribe()
    try:
        await response.write(b": connected\n\n")
        while True:
            try:
                event = await asyncio.wait_for(queue.get(), HEARTBEAT_SECONDS)
            except TimeoutError:
                await response.write(b": heartbeat\n\n")
                continue
            data = json.dumps(event, ensure_ascii=False)
            await response.write(f"data: {data}\n\n".encode())
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    finally:
        hub.unsubscribe(queue)
    return response


def build_app(sandbox: Sandbox, logs: LogBuffer) -> web.Application:
    app = web.Application(client_max_size=MAX_UPLOAD + 1024 * 1024)
    app[SANDBOX_KEY] = sandbox
    app[LOGS_KEY] = logs
    app.router.add_get("/", index)
    app.router.add_get("/api/meta", meta)
    app.router.add_get("/api/chat/{persona}", chat)
    app.router.add_post("/api/chat/{persona}/{action}", act)
    app.router.add_post("/api/miniapp/{persona}", miniapp)
    app.router.add_post("/api/clock/advance", advance)
    app.router.add_get("/api/file/{file_id}", file)
    app.router.add_get("/api/events", events)
    app.router.add_static("/static/", STATIC, append_version=False)
    return app


async def serve(app: web.Application, host: str, port: int, tries: int = 20) -> web.AppRunner:
    """Start on `port`, or the next free one when it is taken (0: any free port)."""
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    last: OSError | None = None
    for candidate in [port] if port == 0 else range(port, port + tries):
        site = web.TCPSite(runner, host, candidate)
        try:
            await site.start()
        except OSError as exc:
            last = exc
            continue
        return runner
    with contextlib.suppress(Exception):
        await runner.cleanup()
    raise OSError(f"no free port from {port} to {port + tries - 1}: {last}")


def bound_port(runner: web.AppRunner) -> int:
    return int(runner.addresses[0][1])
