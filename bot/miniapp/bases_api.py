"""The application's base choice: specialties, national bases with their numbers, local bases;
the choice saved into the wizard's draft through the workflow."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.miniapp.auth import Caller, json_error, require_caller_role
from bot.miniapp.server import API, api, body_of, json_response
from workflow import base_choice
from workflow.context import Ctx
from workflow.enums import Role


def _name(caller: Caller, spec: Any) -> str:
    return spec.name_en if caller.i18n.locale == "en" and spec.name_en else spec.name


def _view(caller: Caller, view: base_choice.ChoiceView) -> dict[str, Any]:
    app = view.application
    return {
        "application": {
            "id": app.id,
            "step": app.step,
            "batch": view.batch.name,
            "specialty_id": app.intended_specialty_id,
            "base_id": app.base_id,
            "site_id": app.site_id,
        },
        "specialty_id": view.specialty_id,
        "specialties": [
            {"id": s.id, "code": s.code, "name": _name(caller, s)} for s in view.specialties
        ],
        "bases": [
            {
                "id": b.base_id,
                "name": b.name,
                "city_id": b.city_id,
                "city": b.city,
                "planned": b.planned,
                "applicants": b.applicants,
            }
            for b in view.bases
        ],
        "sites": [
            {"id": s.base_id, "name": s.base_name, "applicants": s.applicants} for s in view.sites
        ],
    }


def _int(caller: Caller, value: Any, field: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise json_error(
            400, "bad_request", caller.i18n("miniapp.bad_request"), field=field
        ) from None


async def get_bases(request: web.Request) -> web.Response:
    caller = await require_caller_role(request, Role.TRAINEE)
    raw = request.query.get("specialty")
    specialty = _int(caller, raw, "specialty") if raw else None

    async def work(ctx: Ctx, caller: Caller) -> dict[str, Any]:
        return _view(caller, await base_choice.options(ctx, caller.actor, specialty))

    return json_response(await api(request, work))


async def choose_base(request: web.Request) -> web.Response:
    caller = await require_caller_role(request, Role.TRAINEE)
    body = await body_of(request)
    specialty = _int(caller, body.get("specialty_id"), "specialty_id")
    base = _int(caller, body.get("base_id"), "base_id")

    async def work(ctx: Ctx, caller: Caller) -> dict[str, Any]:
        await base_choice.choose(ctx, caller.actor, specialty, base)
        return _view(caller, await base_choice.options(ctx, caller.actor))

    return json_response(await api(request, work))


async def choose_site(request: web.Request) -> web.Response:
    caller = await require_caller_role(request, Role.TRAINEE)
    body = await body_of(request)
    site = _int(caller, body.get("site_id"), "site_id")

    async def work(ctx: Ctx, caller: Caller) -> dict[str, Any]:
        await base_choice.choose_site(ctx, caller.actor, site)
        return _view(caller, await base_choice.options(ctx, caller.actor))

    return json_response(await api(request, work))


def routes() -> list[web.RouteDef]:
    return [
        web.get(f"{API}/apply/bases", get_bases),
        web.post(f"{API}/apply/base", choose_base),
        web.post(f"{API}/apply/site", choose_site),
    ]
