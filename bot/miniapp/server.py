"""The Mini App's HTTP side: `/app/` static pages (bot/miniapp/static/) and `/app/api/` JSON.

Mounted on the bot's own aiohttp server: beside the webhook in webhook mode, on the ops server
when polling, and in the sandbox's web chat. Each feature module gives its routes as a
`routes() -> list[web.RouteDef]`; `api()` runs a unit of work for the checked caller in one
transaction and turns a workflow refusal into a 422 whose `message` is the chat's text.
"""

from __future__ import annotations

import importlib
import json
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web

from bot.i18n import catalog
from bot.miniapp.auth import (
    SERVICES_KEY,
    TOKEN_KEY,
    Caller,
    json_error,
    miniapp_caller,
    services_of,
)
from bot.services import Services
from workflow.context import Ctx
from workflow.enums import Role
from workflow.errors import DomainError

log = logging.getLogger(__name__)

STATIC = Path(__file__).with_name("static")
PREFIX = "/app"
API = f"{PREFIX}/api"
# Feature modules under bot/miniapp/ with a `routes()` function.
FEATURES: tuple[str, ...] = ("profile_api", "bases_api", "staff_api")
# The pages each role is offered on the start page: (page file, locale key of its title).
PAGES: dict[Role, tuple[tuple[str, str], ...]] = {
    Role.TRAINEE: (
        ("profile.html", "miniapp.profile.title"),
        ("bases.html", "miniapp.bases.title"),
    ),
    **{
        role: (("staff.html", "miniapp_staff.title"),)
        for role in (Role.BASE, Role.CITY, Role.PROVINCE)
    },
}
# Locale families the pages need for their labels and messages.
TEXT_PREFIXES = ("miniapp.", "label.", "problem.", "common.", "trainee.profile.", "trainee.apply.")

T = TypeVar("T")


async def body_of(request: web.Request) -> dict[str, Any]:
    """The request's JSON object, or a 400 in the caller's language."""
    caller = await miniapp_caller(request)
    try:
        body = await request.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise json_error(400, "bad_request", caller.i18n("miniapp.bad_request"))
    return body


def refusal(caller: Caller, error: DomainError) -> web.HTTPException:
    """A workflow refusal as the chat words it (`error.<code>` from the locale files)."""
    return json_error(
        422,
        error.code,
        caller.i18n.error(error.code, error.params),
        field=error.params.get("field"),
        record=error.params.get("record"),
    )


async def api(request: web.Request, work: Callable[[Ctx, Caller], Awaitable[T]]) -> T:
    """Run `work` for the checked caller in one transaction (retried on a transient conflict).

    A DomainError rolls everything back and becomes a 422, except one raised with
    `persist=True`, whose bookkeeping is committed first.
    """
    caller = await miniapp_caller(request)
    services = services_of(request)

    async def unit(session: Any) -> tuple[T | None, DomainError | None]:
        try:
            return await work(services.ctx(session), caller), None
        except DomainError as exc:
            if exc.persist:
                return None, exc  # committed, then refused
            raise

    try:
        result, kept = await services.db.run(unit)
    except DomainError as exc:
        raise refusal(caller, exc) from None
    except Exception:
        log.exception("a Mini App request failed: %s %s", request.method, request.path)
        body = {"error": "unexpected", "message": caller.i18n("miniapp.unexpected")}
        raise web.HTTPInternalServerError(
            text=json.dumps(body, ensure_ascii=False), content_type="application/json"
        ) from None
    if kept is not None:
        raise refusal(caller, kept)
    return result  # type: ignore[return-value]


def texts_for(caller: Caller) -> dict[str, str]:
    """The locale texts the pages use, in the caller's language (zh-CN for what is missing)."""
    out: dict[str, str] = {}
    for locale in ("zh-CN", caller.i18n.locale):
        out.update({k: v for k, v in catalog(locale).items() if k.startswith(TEXT_PREFIXES)})
    return out


async def me(request: web.Request) -> web.Response:
    caller = await miniapp_caller(request)
    pages = [
        {"page": page, "title": caller.i18n(title)}
        for page, title in PAGES.get(caller.actor.role, ())
    ]
    return web.json_response(
        {
            "role": caller.actor.role.value,
            "account_id": caller.actor.account_id,
            "locale": caller.i18n.locale,
            "pages": pages,
            "texts": texts_for(caller),
        },
        dumps=_dumps,
    )


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def json_response(value: Any, status: int = 200) -> web.Response:
    """JSON with dates as ISO text and Chinese as it is."""
    return web.json_response(value, status=status, dumps=_dumps)


async def _page(request: web.Request) -> web.FileResponse:
    name = request.match_info.get("page") or "index.html"
    path = (STATIC / name).resolve()
    if path.parent != STATIC.resolve() or not path.is_file():
        raise web.HTTPNotFound()
    return web.FileResponse(path, headers={"Cache-Control": "no-cache"})


async def _to_start(_request: web.Request) -> web.Response:
    raise web.HTTPFound(f"{PREFIX}/")


def feature_routes() -> list[web.RouteDef]:
    routes: list[web.RouteDef] = [web.get(f"{API}/me", me)]
    for name in FEATURES:
        routes.extend(importlib.import_module(f"bot.miniapp.{name}").routes())
    return routes


def add_miniapp_routes(
    app: web.Application, services: Services, *, bot_token: str | None = None
) -> None:
    """Mount the Mini App on `app`; init data is checked against `bot_token` (BOT_TOKEN by
    default; the sandbox passes its emulator's token)."""
    token = bot_token or (
        services.settings.bot_token.get_secret_value() if services.settings.bot_token else None
    )
    if not token:
        raise ValueError("the Mini App needs the bot token to check init data")
    app[SERVICES_KEY] = services
    app[TOKEN_KEY] = token
    app.add_routes(feature_routes())
    app.router.add_get(PREFIX, _to_start)
    app.router.add_get(f"{PREFIX}/", _page)
    app.router.add_get(PREFIX + "/{page:[A-Za-z0-9_.-]+}", _page)


def mount_when_configured(services: Services) -> Callable[[web.Application], None]:
    """Mounts the Mini App on the bot's own server (beside the webhook, or on the ops server)
    when MINIAPP_URL is set; otherwise leaves the application as it is."""

    def mount(app: web.Application) -> None:
        if services.settings.miniapp_url:
            add_miniapp_routes(app, services)

    return mount
