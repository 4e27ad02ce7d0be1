"""Who is calling a Mini App route: Telegram's init data, checked, and the account behind it.

The page sends `Authorization: tma <initData>` (the query string Telegram hands the Mini App,
signed with the bot's token). The signature is checked with aiogram's web-app utilities, the
signing time must be recent (MINIAPP_AUTH_MAX_AGE_HOURS), and the Telegram user must be bound to
an active account. Otherwise the route answers 401 (no, forged or stale init data) or 403 (no
account) with a JSON body whose `message` is in the user's language.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl

from aiogram.utils.web_app import WebAppInitData, safe_parse_webapp_init_data
from aiohttp import web

from bot.i18n import Translator, normalize_locale
from bot.services import Services
from workflow.accounts import account_of_tg, chat_locale
from workflow.actor import Actor
from workflow.enums import Role

SCHEME = "tma"
SERVICES_KEY: web.AppKey[Services] = web.AppKey("miniapp_services", Services)
TOKEN_KEY: web.AppKey[str] = web.AppKey("miniapp_bot_token", str)
FUTURE_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class Caller:
    """A checked Mini App request: the Telegram user, its account's actor, its language."""

    tg_user_id: int
    actor: Actor
    i18n: Translator
    init_data: WebAppInitData


CALLER_KEY: web.RequestKey[Caller] = web.RequestKey("miniapp_caller", Caller)


def services_of(request: web.Request) -> Services:
    return request.app[SERVICES_KEY]


def json_error(status: int, code: str, message: str, **extra: Any) -> web.HTTPException:
    """An HTTP error with a JSON body the page shows as it is (`message`, Telegram HTML)."""
    body = json.dumps({"error": code, "message": message, **extra}, ensure_ascii=False)
    cls = {
        400: web.HTTPBadRequest,
        401: web.HTTPUnauthorized,
        403: web.HTTPForbidden,
        404: web.HTTPNotFound,
        409: web.HTTPConflict,
        422: web.HTTPUnprocessableEntity,
    }[status]
    return cls(text=body, content_type="application/json")


def init_data_of(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != SCHEME or not value.strip():
        return None
    return value.strip()


def _claimed_language(raw: str | None, request: web.Request) -> str | None:
    """The language the page claims before anything is checked: only to word the refusal."""
    if raw:
        user = dict(parse_qsl(raw)).get("user")
        if user:
            try:
                claimed = normalize_locale(json.loads(user).get("language_code"))
            except (ValueError, AttributeError):
                claimed = None
            if claimed:
                return claimed
    return normalize_locale(request.headers.get("Accept-Language", "").split(",")[0])


def _translator(services: Services, locale: str | None) -> Translator:
    settings = services.settings
    return Translator(locale or settings.default_locale, settings.tz)


def check_init_data(
    token: str, raw: str, *, max_age: timedelta, now: datetime | None = None
) -> WebAppInitData:
    """The parsed init data, or ValueError("invalid" | "expired")."""
    try:
        data = safe_parse_webapp_init_data(token=token, init_data=raw)
    except ValueError:
        raise ValueError("invalid") from None
    if data.user is None:
        raise ValueError("invalid")
    now = now or datetime.now(UTC)
    signed = data.auth_date
    if signed.tzinfo is None:
        signed = signed.replace(tzinfo=UTC)
    if now - signed > max_age or signed - now > FUTURE_SKEW:
        raise ValueError("expired")
    return data


async def miniapp_caller(request: web.Request) -> Caller:
    """The checked caller of this request (cached on the request), or a 401/403 JSON error."""
    cached = request.get(CALLER_KEY)
    if cached is not None:
        return cached
    services = services_of(request)
    raw = init_data_of(request)
    if raw is None:
        i18n = _translator(services, _claimed_language(None, request))
        raise json_error(401, "auth.missing", i18n("miniapp.auth.missing"))
    max_age = timedelta(hours=services.settings.miniapp_auth_max_age_hours)
    try:
        data = check_init_data(request.app[TOKEN_KEY], raw, max_age=max_age)
    except ValueError as exc:
        i18n = _translator(services, _claimed_language(raw, request))
        raise json_error(401, f"auth.{exc}", i18n(f"miniapp.auth.{exc}")) from None
    assert data.user is not None
    async with services.db.transaction() as session:
        ctx = services.ctx(session)
        account = await account_of_tg(ctx, data.user.id)
        chosen = await chat_locale(ctx, data.user.id)
    i18n = _translator(services, chosen or normalize_locale(data.user.language_code))
    if account is None:
        raise json_error(403, "auth.unbound", i18n("miniapp.auth.unbound"))
    caller = Caller(tg_user_id=data.user.id, actor=Actor.of(account), i18n=i18n, init_data=data)
    request[CALLER_KEY] = caller
    return caller


async def miniapp_actor(request: web.Request) -> Actor:
    """The workflow actor (trainee or staff) of this request, or a 401/403 JSON error."""
    return (await miniapp_caller(request)).actor


async def require_caller_role(request: web.Request, *roles: Role) -> Caller:
    """The caller, refused with 403 when its account has none of these roles."""
    caller = await miniapp_caller(request)
    if caller.actor.role not in roles:
        raise json_error(403, "auth.role", caller.i18n("miniapp.auth.role"))
    return caller
