"""The list screens of the staff consoles: filters (batch, specialty, name or the last digits of
the ID, one status filter), pages, the Excel export of the filtered list, and, for 学员录取管理,
the multi-select for 发送录取结果. The rows come from `workflow.queues`, one query per page."""

from __future__ import annotations

from aiogram import Router
from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot import exports
from bot.i18n import Translator
from bot.keyboards import pager_row
from bot.staff import filter_text
from handlers.staff.callbacks import AppCb, ListCb, YearsCb
from handlers.staff.common import (
    Env,
    Event,
    ask,
    button,
    chat_of,
    menu_back,
    on_input,
    page_line,
    reply,
    staff_router,
)
from workflow import admission, queues
from workflow.enums import ApplicationStatus as S
from workflow.enums import Role
from workflow.queues import AppFilter, AppRow, TrainingFilter, TrainingRow, View
from workflow.text import clean

SEARCH_MAX = 30  # a name or the last characters of an ID number

YEARS = "yrs"
KINDS = (*(v.value for v in View), YEARS)
ROLES_OF = {**{v.value: queues.VIEW_ROLES[v] for v in View}, YEARS: (Role.BASE,)}
EXTRA_OF = {**{v.value: queues.VIEW_EXTRA[v] for v in View}, YEARS: ("1", "2", "3")}
CONFIRM_ALL_MAX = 500


# --- filter and selection state -------------------------------------------------------------


async def load_filter(state: FSMContext, kind: str) -> dict:  # type: ignore[type-arg]
    return dict((await state.get_data()).get(f"staff_flt_{kind}") or {})


async def save_filter(state: FSMContext, kind: str, flt: dict) -> None:  # type: ignore[type-arg]
    await state.update_data({f"staff_flt_{kind}": flt})


async def stored_page(state: FSMContext, kind: str) -> int:
    return int((await state.get_data()).get(f"staff_pg_{kind}") or 0)


async def selection(state: FSMContext) -> list[int]:
    return [int(i) for i in (await state.get_data()).get("staff_sel") or []]


# --- rendering ------------------------------------------------------------------------------


def status_label(i18n: Translator, status: str) -> str:
    return i18n.label("status", status)


def app_line(env: Env, n: int, row: AppRow, kind: str, selected: bool) -> str:
    parts = [f"{n}. <b>#{row.id}</b> {_esc(row.name)} {row.masked_tail}"]
    parts.append(_esc(row.specialty_name or "—"))
    if kind in (View.CNF, View.ALC):
        parts.append(_esc(row.base_name or "—"))
    parts.append(status_label(env.i18n, row.status))
    if kind == View.ADM:
        parts.append(
            env.t("list.sent_at", at=env.when(row.sent_at))
            if row.sent_at
            else env.t("list.not_sent")
        )
    if kind == View.CHK:
        parts.append(env.t(f"lbl.checkin.{row.checkin or 'none'}"))
    line = " · ".join(parts)
    return f"{line} ☑️" if selected else line


def training_line(env: Env, n: int, row: TrainingRow) -> str:
    years = env.t("years.years_n", n=row.duration_years) if row.duration_years else "—"
    dates = f"{row.start_date or '—'} ~ {row.end_date or '—'}"
    red = " · " + env.i18n.label("status", row.reduction_status) if row.reduction_status else ""
    return (
        f"{n}. <b>#{row.id}</b> {_esc(row.name)} ****{row.id_tail} · "
        f"{_esc(row.specialty_name or '—')} · {years} · {dates}{red}"
    )


def _esc(text: str) -> str:
    import html

    return html.escape(text, quote=False)


async def show_list(
    env: Env,
    event: Event,
    kind: str,
    page: int | None = None,
    *,
    note: str | None = None,
    new: bool = False,
) -> None:
    if kind not in KINDS:
        kind = View.PRE.value
    flt = await load_filter(env.state, kind)
    if page is None:
        page = await stored_page(env.state, kind)
    kb = InlineKeyboardBuilder()
    body: list[str] = []
    selected = await selection(env.state) if kind == View.ADM else []
    if kind == YEARS:
        tpage = await queues.trainings(env.ctx, env.actor, TrainingFilter.of(flt), page)
        total, page, pages = tpage.total, tpage.page, tpage.pages
        for n, trow in enumerate(tpage.rows, start=page * 8 + 1):
            body.append(training_line(env, n, trow))
            kb.row(button(f"#{trow.id} {trow.name}", YearsCb(op="card", id=trow.id)))
    else:
        view = View(kind)
        apage = await queues.applications(env.ctx, env.actor, view, AppFilter.of(flt), page)
        total, page, pages = apage.total, apage.page, apage.pages
        for n, row in enumerate(apage.rows, start=page * 8 + 1):
            chosen = row.id in selected
            body.append(app_line(env, n, row, kind, chosen))
            open_card = button(f"#{row.id} {row.name}", AppCb(act="card", id=row.id, kind=kind))
            if kind == View.ADM and row.status == S.ADMITTED:
                mark = "☑️" if chosen else "☐"
                kb.row(
                    open_card,
                    button(mark, ListCb(kind=kind, op="sel", page=page, arg=row.id)),
                )
            else:
                kb.row(open_card)
    await env.state.update_data({f"staff_pg_{kind}": page})
    head = [env.t(f"list.title.{kind}"), env.t(f"list.hint.{kind}")]
    if note:
        head.insert(0, note)
    head.append(await filter_text(env.ctx, env.i18n, flt))
    head.append(page_line(env.i18n, total, page, pages))
    if kind == View.ADM:
        head.append(env.t("list.selected", n=len(selected), max=admission.MAX_SEND))
    text = "\n".join(head) + "\n\n" + ("\n".join(body) if body else env.t("list.empty"))
    _filter_rows(env, kb, kind, flt)
    pager = pager_row(env.i18n, page, pages, lambda p: ListCb(kind=kind, op="page", page=p))
    if pager:
        kb.row(*pager)
    if kind == View.ADM and selected:
        kb.row(
            button(
                env.t("list.send_selected", n=len(selected), max=admission.MAX_SEND),
                ListCb(kind=kind, op="send", page=page),
            ),
            button(env.t("list.clear_selection"), ListCb(kind=kind, op="selclr", page=page)),
        )
    if kind == View.CNF and flt.get("x") != "confirmed" and total:
        kb.row(button(env.t("list.confirm_all"), ListCb(kind=kind, op="cnfall", page=page)))
    if kind == YEARS:
        kb.row(button(env.t("years.import"), ListCb(kind=kind, op="imp", page=page)))
    kb.row(*menu_back(env.i18n))
    await reply(event, text, kb.as_markup(), new=new)


def _filter_rows(env: Env, kb: InlineKeyboardBuilder, kind: str, flt: dict) -> None:  # type: ignore[type-arg]
    row = [
        button(env.t("list.f_batch"), ListCb(kind=kind, op="fb")),
        button(env.t("list.f_specialty"), ListCb(kind=kind, op="fs")),
        button(env.t("list.f_text"), ListCb(kind=kind, op="fq")),
    ]
    if EXTRA_OF[kind]:
        row.append(button(env.t("list.f_extra"), ListCb(kind=kind, op="fx")))
    kb.row(*row)
    tail = []
    if any(flt.get(k) for k in ("b", "s", "q", "x")):
        tail.append(button(env.t("list.f_clear"), ListCb(kind=kind, op="clr")))
    tail.append(button(env.t("list.export"), ListCb(kind=kind, op="exp")))
    kb.row(*tail)


# --- filter pickers -------------------------------------------------------------------------


async def pick_batch(env: Env, query: CallbackQuery, kind: str, page: int) -> None:
    batches = await queues.batches(env.ctx, page)
    kb = InlineKeyboardBuilder()
    kb.row(button(env.t("list.all_batches"), ListCb(kind=kind, op="fbs", arg=0)))
    for b in batches.rows:
        kb.row(button(b.name, ListCb(kind=kind, op="fbs", arg=b.id or 0)))
    pager = pager_row(
        env.i18n, batches.page, batches.pages, lambda p: ListCb(kind=kind, op="fb", page=p)
    )
    if pager:
        kb.row(*pager)
    kb.row(button(env.i18n("common.back"), ListCb(kind=kind, op="page", page=-1)))
    await reply(query, env.t("list.pick_batch"), kb.as_markup())


async def pick_specialty(env: Env, query: CallbackQuery, kind: str, page: int) -> None:
    specs = await queues.specialties(env.ctx, None, page)
    kb = InlineKeyboardBuilder()
    kb.row(button(env.t("list.all_specialties"), ListCb(kind=kind, op="fss", arg=0)))
    for s in specs.rows:
        kb.row(button(f"{s.code} {s.name}", ListCb(kind=kind, op="fss", arg=s.id or 0)))
    pager = pager_row(
        env.i18n, specs.page, specs.pages, lambda p: ListCb(kind=kind, op="fs", page=p)
    )
    if pager:
        kb.row(*pager)
    kb.row(button(env.i18n("common.back"), ListCb(kind=kind, op="page", page=-1)))
    await reply(query, env.t("list.pick_specialty"), kb.as_markup())


def next_extra(kind: str, current: object) -> str | None:
    options = [None, *EXTRA_OF[kind]]
    try:
        i = options.index(current)  # type: ignore[arg-type]
    except ValueError:
        i = 0
    return options[(i + 1) % len(options)]


# --- export ---------------------------------------------------------------------------------


async def export(env: Env, query: CallbackQuery, kind: str) -> None:
    flt = await load_filter(env.state, kind)
    full = exports.sees_full_ids(env.actor)
    filters = await filter_text(env.ctx, env.i18n, flt)
    if kind == YEARS:
        trows = await queues.all_trainings(env.ctx, env.actor, TrainingFilter.of(flt), with_id=full)
        data = exports.trainings_xlsx(
            trows, env.i18n, env.ctx.cipher, env.actor, filters, env.ctx.now()
        )
        count = len(trows)
    else:
        rows = await queues.all_applications(
            env.ctx, env.actor, View(kind), AppFilter.of(flt), with_id=full
        )
        data = exports.applications_xlsx(
            rows,
            env.i18n,
            env.ctx.cipher,
            env.actor,
            env.t(f"list.sheet.{kind}"),
            filters,
            env.ctx.now(),
        )
        count = len(rows)
    name = exports.file_name(kind, env.ctx.now())
    await query.answer()
    await env.bot.send_document(
        chat_of(query),
        BufferedInputFile(data, filename=name),
        caption=env.t("list.exported", n=count) + "\n" + filters,
    )


# --- the router -----------------------------------------------------------------------------


def build_router() -> Router:
    router = staff_router(name="staff-lists")

    @router.callback_query(ListCb.filter())
    async def on_list(
        query: CallbackQuery,
        callback_data: ListCb,
        env: Env,
    ) -> None:
        kind, op, page = callback_data.kind, callback_data.op, callback_data.page
        env.require(*ROLES_OF.get(kind, (Role.BASE,)))
        flt = await load_filter(env.state, kind)
        if op == "page":
            await show_list(env, query, kind, None if page < 0 else page)
        elif op == "fb":
            await pick_batch(env, query, kind, page)
        elif op == "fs":
            await pick_specialty(env, query, kind, page)
        elif op in ("fbs", "fss"):
            flt["b" if op == "fbs" else "s"] = callback_data.arg or None
            await save_filter(env.state, kind, flt)
            await show_list(env, query, kind, 0)
        elif op == "fq":
            await ask(
                env,
                query,
                env.t("list.ask_text"),
                "query",
                ListCb(kind=kind, op="page", page=-1),
                kind=kind,
            )
        elif op == "fx":
            flt["x"] = next_extra(kind, flt.get("x"))
            await save_filter(env.state, kind, flt)
            await show_list(env, query, kind, 0)
        elif op == "clr":
            await save_filter(env.state, kind, {})
            await show_list(env, query, kind, 0)
        elif op == "exp":
            await export(env, query, kind)
        elif op == "sel":
            await toggle(env, query, callback_data)
        elif op == "selclr":
            await env.state.update_data(staff_sel=[])
            await show_list(env, query, kind, page)
        elif op == "send":
            await send_selected(env, query)
        elif op == "cnfall":
            await confirm_all_ask(env, query, page)
        elif op == "cnfyes":
            await confirm_all(env, query)
        elif op == "imp":
            from handlers.staff.years import ask_import

            await ask_import(env, query)
        else:
            await query.answer()

    return router


@on_input("query")
async def typed_query(env: Env, message: Message, data: dict) -> None:  # type: ignore[type-arg]
    kind = str(data.get("kind") or View.PRE.value)
    flt = await load_filter(env.state, kind)
    flt["q"] = clean(message.text, limit=SEARCH_MAX, field="query", required=False)
    await save_filter(env.state, kind, flt)
    await show_list(env, message, kind, 0)


async def toggle(env: Env, query: CallbackQuery, cb: ListCb) -> None:
    chosen = await queues.select_for_send(
        env.ctx, env.actor, await selection(env.state), cb.arg, admission.MAX_SEND
    )
    await env.state.update_data(staff_sel=chosen)
    await show_list(env, query, View.ADM.value, cb.page)


async def send_selected(env: Env, query: CallbackQuery) -> None:
    chosen = await selection(env.state)
    apps = await admission.send_results(env.ctx, env.actor, chosen)
    await env.state.update_data(staff_sel=[])
    await env.ctx.session.commit()
    await show_list(env, query, View.ADM.value, note=env.t("done.sent_n", n=len(apps)))


async def confirm_all_ask(env: Env, query: CallbackQuery, page: int) -> None:
    flt = AppFilter.of(await load_filter(env.state, View.CNF.value))
    ids = await queues.application_ids(
        env.ctx, env.actor, View.CNF, flt, status=S.ACCEPTED, limit=CONFIRM_ALL_MAX
    )
    if not ids:
        await show_list(env, query, View.CNF.value, page, note=env.t("list.nothing_to_confirm"))
        return
    kb = InlineKeyboardMarkup(
        inline_keyboard=[
            [
                button(env.t("list.confirm_all_yes", n=len(ids)), ListCb(kind="cnf", op="cnfyes")),
                button(env.i18n("common.back"), ListCb(kind="cnf", op="page", page=page)),
            ]
        ]
    )
    text = env.t(
        "list.confirm_all_ask",
        n=len(ids),
        filters=await filter_text(env.ctx, env.i18n, flt.dump()),
    )
    await reply(query, text, kb)


async def confirm_all(env: Env, query: CallbackQuery) -> None:
    flt = AppFilter.of(await load_filter(env.state, View.CNF.value))
    ids = await queues.application_ids(
        env.ctx, env.actor, View.CNF, flt, status=S.ACCEPTED, limit=CONFIRM_ALL_MAX
    )
    for app_id in ids:
        await admission.confirm_result(env.ctx, env.actor, app_id)
    await env.ctx.session.commit()
    await show_list(env, query, View.CNF.value, 0, note=env.t("done.confirmed_n", n=len(ids)))
