"""The profile form's routes: the four modules as they are saved, their drafts, and saving one
module through the workflow (the chat's own functions and refusals)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.miniapp.auth import Caller, require_caller_role
from bot.miniapp.server import API, api, body_of, json_response
from workflow import profile, profile_forms
from workflow.completeness import MODULES, Completeness
from workflow.context import Ctx
from workflow.enums import EducationLevel, Gender, Role


def completeness_view(c: Completeness) -> dict[str, Any]:
    return {
        "done": c.done_count,
        "total": len(MODULES),
        "complete": c.complete,
        "modules": {
            m: {"complete": c.module_complete(m), "missing": [p.code for p in c.missing(m)]}
            for m in MODULES
        },
    }


async def _profile_view(ctx: Ctx, caller: Caller) -> dict[str, Any]:
    view = await profile.view(ctx, caller.actor)
    drafts = await profile_forms.module_drafts(ctx, caller.actor)
    return {
        "identity": profile_forms.identity(ctx, view),
        "saved": profile_forms.saved_values(ctx, view),
        "saved_completeness": completeness_view(view.completeness),
        "drafts": drafts,
        "completeness": completeness_view(profile_forms.preview(view, drafts)),
        "choices": {
            "gender": [g.value for g in Gender],
            "ethnicity": profile.ETHNICITIES,
            "political_status": list(profile.POLITICAL_STATUSES),
            "level": [lv.value for lv in EducationLevel],
        },
    }


def _module(request: web.Request) -> str:
    return request.match_info["module"]


async def get_profile(request: web.Request) -> web.Response:
    await require_caller_role(request, Role.TRAINEE)
    return json_response(await api(request, _profile_view))


async def keep_draft(request: web.Request) -> web.Response:
    await require_caller_role(request, Role.TRAINEE)
    body = await body_of(request)
    values = body.get("values") if isinstance(body.get("values"), dict) else {}

    async def work(ctx: Ctx, caller: Caller) -> dict[str, Any]:
        c = await profile_forms.keep_draft(ctx, caller.actor, _module(request), values)
        return {"completeness": completeness_view(c)}

    return json_response(await api(request, work))


async def drop_draft(request: web.Request) -> web.Response:
    await require_caller_role(request, Role.TRAINEE)

    async def work(ctx: Ctx, caller: Caller) -> dict[str, Any]:
        await profile_forms.drop_draft(ctx, caller.actor, _module(request))
        return await _profile_view(ctx, caller)

    return json_response(await api(request, work))


async def save_module(request: web.Request) -> web.Response:
    await require_caller_role(request, Role.TRAINEE)
    body = await body_of(request)
    values = body.get("values") if isinstance(body.get("values"), dict) else {}

    async def work(ctx: Ctx, caller: Caller) -> dict[str, Any]:
        await profile_forms.save_module(ctx, caller.actor, _module(request), values)
        return await _profile_view(ctx, caller)

    return json_response(await api(request, work))


def routes() -> list[web.RouteDef]:
    module = "{module:basic|contact|education|work}"
    return [
        web.get(f"{API}/profile", get_profile),
        web.post(f"{API}/profile/{module}/draft", keep_draft),
        web.delete(f"{API}/profile/{module}/draft", drop_draft),
        web.post(f"{API}/profile/{module}", save_module),
    ]
