"""The staff part of the Mini App: the queues (预审核, 录取管理, 录取结果确认, 报到, 培训年限) as
JSON pages filtered, sorted and paged by `workflow.queues`, their actions through the same
`workflow` functions as the chat's buttons, the Excel export of the filtered list, and the
numbers. Every request is one transaction (the Mini App's `api()`): a refusal rolls it back and
answers with the chat's text for it, in the caller's language."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot import exports
from bot.i18n import Translator
from bot.miniapp.auth import Caller
from bot.miniapp.server import API, api, body_of, json_response
from bot.miniapp.staff_views import (
    VIEWS,
    app_row_json,
    parse_filter,
    texts,
    training_row_json,
    views_of,
)
from bot.services import Services
from bot.staff import filter_text, need
from workflow import admission, queues, stats, training
from workflow.actor import Actor
from workflow.context import Ctx
from workflow.enums import ApplicationStatus as S
from workflow.enums import Role
from workflow.errors import DomainError, Forbidden, NotFound
from workflow.profile import parse_date
from workflow.queues import AppFilter, TrainingFilter, View
from workflow.record_actions import ACTIONS

PAGE_SIZE = 20
PAGE_SIZE_MAX = 100
CONFIRM_ALL_MAX = 500
BATCHES_MAX = 50  # the newest batches offered in the filters and the numbers


@dataclass
class Call:
    """One request of a staff member: the transaction, who acts, in which language, and the
    request's JSON body (empty for a GET)."""

    request: web.Request
    ctx: Ctx
    actor: Actor
    i18n: Translator
    body: dict[str, Any]

    def plain(self, key: str, /, **params: Any) -> str:
        return exports.plain(self.i18n(key, **params))


Handler = Callable[[Call], Awaitable[Any]]
Route = Callable[[web.Request], Awaitable[web.StreamResponse]]


def staff(*roles: Role) -> Callable[[Handler], Route]:
    """A route for staff of these roles (any staff role by default), run by the Mini App's
    `api()`: one transaction, a refusal rolled back and answered in the caller's language."""

    def wrap(handler: Handler) -> Route:
        async def route(request: web.Request) -> web.StreamResponse:
            body = await body_of(request) if request.method == "POST" else {}

            async def work(ctx: Ctx, caller: Caller) -> Any:
                actor = need(caller.actor, *roles)
                return await handler(Call(request, ctx, actor, caller.i18n, body))

            result = await api(request, work)
            return result if isinstance(result, web.StreamResponse) else json_response(result)

        return route

    return wrap


# --- reading --------------------------------------------------------------------------------


@staff()
async def meta(call: Call) -> dict[str, Any]:
    """What the page needs before its first list: the role's views, filter choices, texts."""
    batches = await queues.batches(call.ctx, 0, size=BATCHES_MAX)
    specs = await queues.specialties(call.ctx, None, 0, size=200)
    scope = await queues.scope_label(call.ctx, call.actor)
    return {
        "role": call.actor.role.value,
        "locale": call.i18n.locale,
        "scope": scope or call.plain("staff.stats.province"),
        "views": views_of(call.actor.role, call.i18n),
        "batches": [{"id": b.id, "name": b.name} for b in batches.rows],
        "specialties": [{"id": s.id, "name": f"{s.code} {s.name}"} for s in specs.rows],
        "max_send": admission.MAX_SEND,
        "texts": texts(call.i18n),
    }


def _view(call: Call) -> str:
    view = call.request.match_info["view"]
    if view not in VIEWS or view not in {v["id"] for v in views_of(call.actor.role, call.i18n)}:
        raise Forbidden("staff.only")
    return view


def _number(query: Mapping[str, str], key: str, default: int) -> int:
    raw = query.get(key, "")
    return int(raw) if raw.isdigit() else default


@staff()
async def listing(call: Call) -> dict[str, Any]:
    """One page of a queue with its total: `b s q x` filter, `o` sorts, `page`, `size`."""
    view = _view(call)
    query = call.request.query
    flt = parse_filter(view, query)
    page = _number(query, "page", 0)
    size = min(max(_number(query, "size", PAGE_SIZE), 1), PAGE_SIZE_MAX)
    if view == "yrs":
        tpage = await queues.trainings(call.ctx, call.actor, TrainingFilter.of(flt), page, size)
        rows = [training_row_json(r, call.i18n) for r in tpage.rows]
        total, page, pages = tpage.total, tpage.page, tpage.pages
    else:
        now = call.ctx.now()
        apage = await queues.applications(
            call.ctx, call.actor, View(view), AppFilter.of(flt), page, size
        )
        rows = [app_row_json(r, View(view), call.i18n, now) for r in apage.rows]
        total, page, pages = apage.total, apage.page, apage.pages
    return {
        "rows": rows,
        "total": total,
        "page": page,
        "pages": pages,
        "line": call.plain("staff.common.total", total=total, page=page + 1, pages=pages),
    }


@staff()
async def export(call: Call) -> web.Response:
    """The filtered list as the chat's Excel file, in the list's order."""
    view = _view(call)
    flt = parse_filter(view, call.request.query)
    ctx, actor, i18n = call.ctx, call.actor, call.i18n
    full = exports.sees_full_ids(actor)
    filters = await filter_text(ctx, i18n, flt)
    if view == "yrs":
        trows = await queues.all_trainings(ctx, actor, TrainingFilter.of(flt), with_id=full)
        data = exports.trainings_xlsx(trows, i18n, ctx.cipher, actor, filters, ctx.now())
        count = len(trows)
    else:
        rows = await queues.all_applications(
            ctx, actor, View(view), AppFilter.of(flt), with_id=full
        )
        sheet = i18n(f"staff.list.sheet.{view}")
        data = exports.applications_xlsx(rows, i18n, ctx.cipher, actor, sheet, filters, ctx.now())
        count = len(rows)
    name = exports.file_name(view, ctx.now())
    return web.Response(
        body=data,
        content_type=exports.XLSX_MIME,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "X-Row-Count": str(count),
            "Cache-Control": "no-store",
        },
    )


@staff()
async def numbers(call: Call) -> dict[str, Any]:
    """数据统计 of a batch, as rows for the table and the bars."""
    batches = (await queues.batches(call.ctx, 0, size=BATCHES_MAX)).rows
    if not batches:
        return {"batch": None, "rows": [], "columns": []}
    wanted = _number(call.request.query, "batch", 0)
    if wanted:
        batch = next((b for b in batches if b.id == wanted), None)
        if batch is None:
            raise NotFound("batch")
        rows = await stats.per_specialty(call.ctx, call.actor, wanted)
    else:
        # The newest batch with numbers in the actor's scope (of another programme, a newer
        # batch may have none), or the newest.
        for batch in batches:
            rows = await stats.per_specialty(call.ctx, call.actor, batch.id)  # type: ignore[arg-type]
            if rows:
                break
        else:
            batch, rows = batches[0], []
    return {
        "batch": {"id": batch.id, "name": batch.name},
        "columns": [{"id": c, "label": call.plain(f"staff.stats.col.{c}")} for c in stats.COLUMNS],
        "rows": [{"specialty": r.specialty, "values": list(r.values())} for r in rows],
        "totals": list(stats.totals(rows)),
        "total_label": call.plain("staff.stats.total"),
    }


# --- acting ---------------------------------------------------------------------------------


def _int(value: object, usage: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
        raise DomainError("staff.usage", usage=usage)
    return int(value)


def _ids(value: object, usage: str) -> list[int]:
    if not isinstance(value, list):
        raise DomainError("staff.usage", usage=usage)
    return [_int(i, usage) for i in value]


@staff()
async def act(call: Call) -> dict[str, Any]:
    """One record's action, as its chat button does it: {act, id} (+ reason, or years)."""
    data = call.body
    name, record = str(data.get("act") or ""), _int(data.get("id"), "id")
    if name == "rej":
        await admission.reject(call.ctx, call.actor, record, str(data.get("reason") or ""))
    elif name == "years":
        years = _int(data.get("years"), "years")
        start = parse_date(str(data.get("start") or ""), "start_date")
        end = parse_date(str(data["end"]), "end_date") if data.get("end") else None
        await training.set_years(call.ctx, call.actor, record, years, start, end)  # type: ignore[arg-type]
    elif name in ACTIONS:
        run, _card = ACTIONS[name]
        await run(call.ctx, call.actor, record)
    else:
        raise DomainError("staff.usage", usage="act")
    return {"note": call.plain(f"staff.done.{name}")}


@staff(Role.BASE)
async def select(call: Call) -> dict[str, Any]:
    """Tick or untick one record for 发送录取结果: {selected, id}; the 21st tick is refused."""
    chosen = _ids(call.body.get("selected") or [], "selected")
    record = _int(call.body.get("id"), "id")
    selected = await queues.select_for_send(
        call.ctx, call.actor, chosen, record, admission.MAX_SEND
    )
    n, most = len(selected), admission.MAX_SEND
    return {"selected": selected, "line": call.plain("staff.list.selected", n=n, max=most)}


@staff(Role.BASE)
async def send(call: Call) -> dict[str, Any]:
    """发送录取结果 to the selected: {ids}; all of them or none."""
    ids = _ids(call.body.get("ids") or [], "ids")
    apps = await admission.send_results(call.ctx, call.actor, ids)
    return {"note": call.plain("staff.done.sent_n", n=len(apps))}


@staff(Role.CITY, Role.PROVINCE)
async def confirm_all(call: Call) -> dict[str, Any]:
    """录取结果确认 of every accepted result of the filtered list: {filters, count_only};
    `count_only` gives the question the page asks first."""
    given = call.body.get("filters")
    raw = {str(k): str(v) for k, v in given.items() if v} if isinstance(given, dict) else {}
    flt = parse_filter("cnf", raw)
    ids = await queues.application_ids(
        call.ctx,
        call.actor,
        View.CNF,
        AppFilter.of(flt),
        status=S.ACCEPTED,
        limit=CONFIRM_ALL_MAX,
    )
    if call.body.get("count_only"):
        if not ids:
            return {"n": 0, "note": call.plain("staff.list.nothing_to_confirm")}
        filters = await filter_text(call.ctx, call.i18n, flt)
        question = call.plain("staff.list.confirm_all_ask", n=len(ids), filters=filters)
        return {"n": len(ids), "ask": question}
    for app_id in ids:
        await admission.confirm_result(call.ctx, call.actor, app_id)
    return {"note": call.plain("staff.done.confirmed_n", n=len(ids))}


def routes() -> list[web.RouteDef]:
    base = f"{API}/staff"
    return [
        web.get(f"{base}/meta", meta),
        web.get(f"{base}/list/{{view}}", listing),
        web.get(f"{base}/export/{{view}}", export),
        web.get(f"{base}/stats", numbers),
        web.post(f"{base}/act", act),
        web.post(f"{base}/select", select),
        web.post(f"{base}/send", send),
        web.post(f"{base}/confirm_all", confirm_all),
    ]


def add_staff_routes(app: web.Application, services: Services) -> None:
    """The staff routes, on an app the Mini App is mounted on (`add_miniapp_routes(app,
    services)` holds the services and the token init data is checked against)."""
    app.add_routes(routes())
