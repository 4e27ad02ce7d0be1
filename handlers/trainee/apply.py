"""学员报名 (the guide's §三): the six-step wizard. The draft lives in the application row (its
`step` says where the wizard stands), so /apply resumes it after days or a restart, and every
button re-checks its step and the workflow's rules when pressed."""

from __future__ import annotations

from datetime import datetime

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot import lists
from bot.config import Settings
from bot.i18n import Translator
from bot.keyboards import nav_row, page_of, pager_row
from bot.miniapp.links import miniapp_row
from handlers.trainee import status as status_card
from handlers.trainee.cb import ApplyCb, ProfileCb, StatusCb
from handlers.trainee.env import Env, trainee_router
from handlers.trainee.states import ApplyInput
from handlers.trainee.ui import button, markup, not_command, show, specialty_name
from handlers.trainee.views import (
    batch_lines,
    choice_lines,
    names,
    row,
    status_label,
    supplement_lines,
)
from storage.models import Account, Application, Batch
from workflow import application, catalog, profile, trainee_status
from workflow.actor import Actor
from workflow.context import Ctx
from workflow.enums import ApplicationStatus
from workflow.errors import DomainError
from workflow.identity import mask_id, mask_phone
from workflow.text import record_id

# The guide's six steps; its step 5 is three questions in chat.
GUIDE_STEP = {
    "batch": 1,
    "personnel_type": 2,
    "confirm_info": 3,
    "supplement": 4,
    "specialty": 5,
    "base": 5,
    "site": 5,
    "reassignment": 5,
    "review": 6,
}
PREVIOUS = {
    "confirm_info": "personnel_type",
    "supplement": "confirm_info",
    "specialty": "supplement",
    "base": "specialty",
    "site": "base",
    "reassignment": "site",
    "review": "reassignment",
}
# The step each answering button belongs to: pressed at another step it is stale.
ACTION_STEP = {
    "ptype": "personnel_type",
    "info": "confirm_info",
    "sup": "supplement",
    "qual": "supplement",
    "supdone": "supplement",
    "spec": "specialty",
    "base": "base",
    "site": "site",
    "reas": "reassignment",
    "submit": "review",
    "confirm": "review",
}
CLOSED_SHOWN = 5
# The steps that choose from a list the trainee can filter by typing.
LIST_STEPS = ("specialty", "base", "site")


def _cb(a: str, app: Application | int = 0, v: str = "", p: int = 0) -> ApplyCb:
    app_id = app if isinstance(app, int) else app.id or 0
    return ApplyCb(a=a, app=app_id, v=v, p=p)


# --- step 1: the batches ----------------------------------------------------------------------


async def batches_screen(
    ctx: Ctx, actor: Actor, account: Account, i18n: Translator, page: int = 0
) -> tuple[str, InlineKeyboardMarkup]:
    now = ctx.now()
    views = await catalog.batches(ctx, account.program)
    mine = {a.batch_id: a for a in await trainee_status.applications(ctx, actor)}
    open_ = [v for v in views if v.is_open(now)]
    lines = [i18n("trainee.apply.title", n=1, step=i18n.label("step", "batch"))]
    if open_:
        lines.append(i18n("trainee.apply.open_batches"))
    else:
        lines.append(i18n("trainee.apply.no_open_batch"))
    shown, page, pages = page_of(open_, page)
    for v in shown:
        b = v.batch
        types = i18n("trainee.sep").join(i18n.label("ptype", t) for t in v.types)
        lines.append(
            i18n(
                "trainee.apply.batch_line",
                name=b.name,
                year=b.cohort_year,
                start=b.apply_start,
                end=b.apply_end,
                types=types,
            )
        )
        if b.id in mine:
            lines.append("   " + i18n("trainee.apply.yours", status=status_label(i18n, mine[b.id])))
        if b.notes:
            lines.append("   " + i18n("trainee.apply.notes_short", notes=b.notes))
    closed = [v for v in views if not v.is_open(now)][:CLOSED_SHOWN]
    if closed:
        lines.append("")
        lines.append(i18n("trainee.apply.closed_batches"))
        for v in closed:
            lines.append(
                i18n("trainee.apply.closed_line", name=v.batch.name, why=_why_closed(i18n, v, now))
            )
    rows = [[button(v.batch.name, _cb("batch", v=str(v.batch.id)))] for v in shown]
    rows.append(pager_row(i18n, page, pages, lambda n: _cb("batches", p=n)))
    rows.append(nav_row(i18n))
    return "\n".join(lines), markup(*rows)


def _why_closed(i18n: Translator, view: catalog.BatchView, now: datetime) -> str:
    b = view.batch
    if not view.types:
        return i18n("trainee.apply.closed_no_types")
    if now < b.apply_start:
        return i18n("trainee.apply.closed_not_yet", start=b.apply_start)
    return i18n("trainee.apply.closed_ended", end=b.apply_end)


# --- steps 2 to 6 -----------------------------------------------------------------------------


def _header(i18n: Translator, app: Application, batch: Batch) -> str:
    step = app.step if app.step in GUIDE_STEP else "review"
    title = i18n("trainee.apply.title", n=GUIDE_STEP[step], step=i18n.label("step", step))
    if step == "review":  # the review names the batch itself
        return title
    return title + "\n" + row(i18n, "trainee.app.batch", batch.name)


def _back(app: Application) -> ApplyCb:
    previous = PREVIOUS.get(app.step)
    return _cb("goto", app, previous) if previous else _cb("batches")


async def screen(
    ctx: Ctx,
    actor: Actor,
    i18n: Translator,
    state: FSMContext,
    app: Application,
    page: int = 0,
    *,
    settings: Settings | None = None,
) -> tuple[str, InlineKeyboardMarkup]:
    """The step's screen; a list step remembers it is shown, with what was typed to filter it."""
    listed = ApplicationStatus(app.status) is ApplicationStatus.DRAFT and app.step in LIST_STEPS
    if not listed:
        await lists.forget(state)
        return await step_screen(ctx, actor, i18n, app, page, settings=settings)
    query = await lists.shown(state, "apply", f"{app.id}:{app.step}")
    return await step_screen(ctx, actor, i18n, app, page, query, settings=settings)


async def search_screen(event: Message | CallbackQuery, key: str, data: dict) -> bool:  # type: ignore[type-arg]
    """The renderer of typed filters (bot/lists.py): the step's list again, filtered."""
    ctx, actor, i18n, state = data["ctx"], data["actor"], data["i18n"], data["state"]
    app_id, _, step = key.partition(":")
    if data.get("account") is None or not app_id.isdigit():
        return False
    app = await trainee_status.own_application(ctx, actor, int(app_id))
    if ApplicationStatus(app.status) is not ApplicationStatus.DRAFT or app.step != step:
        return False
    services = data.get("services")
    settings = services.settings if services is not None else None
    text, kb = await screen(ctx, actor, i18n, state, app, settings=settings)
    if isinstance(event, CallbackQuery):
        await event.answer()
    await show(event, text, kb)
    return True


async def step_screen(
    ctx: Ctx,
    actor: Actor,
    i18n: Translator,
    app: Application,
    page: int = 0,
    query: str = "",
    settings: Settings | None = None,
) -> tuple[str, InlineKeyboardMarkup]:
    """The screen of the step the draft stands at, with the answers given so far; `settings`
    offer the Mini App's base choice at the choice's steps."""
    n = await names(ctx, app)
    batch = n.batch
    if ApplicationStatus(app.status) is not ApplicationStatus.DRAFT:
        return await _not_a_draft(ctx, actor, i18n, app)
    lines = [_header(i18n, app, batch)]
    rows: list[list[InlineKeyboardButton]] = []
    step = app.step
    if step == "personnel_type":
        types = await catalog.batch_types(ctx, batch.id)  # type: ignore[arg-type]
        lines.append(i18n("trainee.apply.ptype_ask"))
        lines.append(i18n("trainee.apply.ptype_rule"))
        rows += [[button(i18n.label("ptype", t), _cb("ptype", app, t.value))] for t in types]
    elif step == "confirm_info":
        lines += await _personal_lines(ctx, actor, i18n)
        rows.append([button(i18n("trainee.apply.info_ok"), _cb("info", app))])
        rows.append([button(i18n("trainee.apply.info_edit"), ProfileCb(a="menu"))])
    elif step == "supplement":
        lines.append(i18n("trainee.apply.notes", notes=batch.notes or "—"))
        lines += supplement_lines(i18n, app)
        sup = app.supplement or {}
        rows.append(
            [
                button(
                    _tick(sup.get("fresh_graduate") is True) + i18n("trainee.apply.fresh_yes"),
                    _cb("sup", app, "fresh-1"),
                ),
                button(
                    _tick(sup.get("fresh_graduate") is False) + i18n("trainee.apply.fresh_no"),
                    _cb("sup", app, "fresh-0"),
                ),
            ]
        )
        rows.append(
            [
                button(
                    _tick(sup.get("has_qualification") is True) + i18n("trainee.apply.qual_yes"),
                    _cb("sup", app, "qual-1"),
                ),
                button(
                    _tick(sup.get("has_qualification") is False) + i18n("trainee.apply.qual_no"),
                    _cb("sup", app, "qual-0"),
                ),
            ]
        )
        if sup.get("has_qualification"):
            rows.append([button(i18n("trainee.apply.qual_number"), _cb("qual", app))])
        if application.supplement_complete(sup):
            rows.append([button(i18n("trainee.apply.next"), _cb("supdone", app))])
    elif step == "specialty":
        lines += choice_lines(i18n, app, n)[:1]
        lines.append(i18n("trainee.apply.specialty_ask"))
        specs = await catalog.specialties_with_plans(ctx, batch.id)  # type: ignore[arg-type]
        found = lists.choose(specs, page, query, lambda s: (s.name, s.name_en, s.code))
        lines += lists.hint(i18n, found)
        rows += [
            [
                button(
                    _tick(s.id == app.intended_specialty_id) + specialty_name(i18n, s),
                    _cb("spec", app, str(s.id)),
                )
            ]
            for s in found.shown
        ]
        rows += lists.rows(i18n, found, lambda p: _cb("page", app, step, p))
    elif step == "base":
        lines += choice_lines(i18n, app, n)[:2]
        lines.append(i18n("trainee.apply.base_ask"))
        plans = await catalog.national_bases_for(ctx, batch.id, app.intended_specialty_id)  # type: ignore[arg-type]
        found = lists.choose(plans, page, query, lambda p: (p.base_name, p.city))
        lines += lists.hint(i18n, found)
        rows += [
            [
                button(
                    i18n(
                        "trainee.apply.base_button",
                        name=p.base_name,
                        planned=p.planned,
                        applied=p.applicants,
                    ),
                    _cb("base", app, str(p.base_id)),
                )
            ]
            for p in found.shown
        ]
        rows += lists.rows(i18n, found, lambda p: _cb("page", app, step, p))
    elif step == "site":
        lines += choice_lines(i18n, app, n)[:3]
        lines.append(i18n("trainee.apply.site_ask"))
        sites = await catalog.local_bases_for(ctx, batch.id, app.intended_specialty_id, app.base_id)  # type: ignore[arg-type]
        found = lists.choose(sites, page, query, lambda s: (s.base_name, s.city))
        lines += lists.hint(i18n, found)
        rows += [
            [
                button(
                    i18n("trainee.apply.site_button", name=s.base_name, applied=s.applicants),
                    _cb("site", app, str(s.base_id)),
                )
            ]
            for s in found.shown
        ]
        rows += lists.rows(i18n, found, lambda p: _cb("page", app, step, p))
    elif step == "reassignment":
        lines += choice_lines(i18n, app, n)[:4]
        lines.append(i18n("trainee.apply.reassign_ask"))
        rows.append(
            [
                button(i18n("trainee.apply.reassign_yes"), _cb("reas", app, "1")),
                button(i18n("trainee.apply.reassign_no"), _cb("reas", app, "0")),
            ]
        )
    else:  # review
        lines += await _review_lines(ctx, actor, i18n, app)
        rows.append(
            [
                button(i18n("trainee.apply.edit_ptype"), _cb("goto", app, "personnel_type")),
                button(i18n("trainee.apply.edit_supplement"), _cb("goto", app, "supplement")),
            ]
        )
        rows.append(
            [
                button(i18n("trainee.apply.edit_choice"), _cb("goto", app, "specialty")),
                button(i18n("trainee.apply.edit_reassign"), _cb("goto", app, "reassignment")),
            ]
        )
        rows.append([button(i18n("trainee.apply.submit"), _cb("submit", app))])
    if step in ("specialty", "base", "site"):
        rows.append(miniapp_row(settings, i18n("miniapp.open_bases"), "bases.html"))
    rows.append(nav_row(i18n, _back(app)))
    return "\n".join(lines), markup(*rows)


def _tick(on: bool) -> str:
    return "☑ " if on else ""


async def _personal_lines(ctx: Ctx, actor: Actor, i18n: Translator) -> list[str]:
    view = await profile.view(ctx, actor)
    p = view.profile
    number = ctx.cipher.decrypt("id_number", p.id_number_enc)
    phone = ctx.cipher.decrypt("phone", p.phone_enc) if p.phone_enc else None
    highest = next((r for r in view.education if r.is_highest), None)
    current = next((r for r in view.work if r.is_current), None)
    return [
        i18n("trainee.apply.info_ask"),
        row(i18n, "label.field.name", p.name),
        row(i18n, "trainee.app.id", f"{i18n.label('id_type', p.id_type)} {mask_id(number)}"),
        row(
            i18n,
            "label.field.gender",
            i18n(f"trainee.profile.gender.{p.gender}") if p.gender else "—",
        ),
        row(i18n, "label.field.birth_date", p.birth_date or "—"),
        row(i18n, "label.field.ethnicity", p.ethnicity or "—"),
        row(i18n, "label.field.political_status", p.political_status or "—"),
        row(i18n, "trainee.profile.phone", mask_phone(phone) if phone else "—"),
        row(i18n, "label.field.email", p.email or "—"),
        row(
            i18n, "label.field.is_highest", f"{highest.school} {highest.major}" if highest else "—"
        ),
        row(i18n, "trainee.app.current_unit", current.unit_name if current else "—"),
        row(
            i18n,
            "trainee.app.completeness",
            i18n(
                "trainee.app.complete" if view.completeness.complete else "trainee.app.incomplete"
            ),
        ),
    ]


async def _review_lines(ctx: Ctx, actor: Actor, i18n: Translator, app: Application) -> list[str]:
    n = await names(ctx, app)
    view = await profile.view(ctx, actor)
    complete = i18n(
        "trainee.app.complete" if view.completeness.complete else "trainee.app.incomplete"
    )
    return [
        *batch_lines(i18n, app, n),
        row(i18n, "trainee.app.status", status_label(i18n, app)),
        row(i18n, "trainee.app.completeness", complete),
        "",
        *choice_lines(i18n, app, n),
        "",
        *supplement_lines(i18n, app),
        "",
        i18n("trainee.apply.review_hint"),
    ]


async def _not_a_draft(
    ctx: Ctx, actor: Actor, i18n: Translator, app: Application
) -> tuple[str, InlineKeyboardMarkup]:
    """An application already submitted: it can be neither changed nor withdrawn."""
    text = (
        i18n("trainee.apply.already_submitted")
        + "\n\n"
        + await status_card.card_text(ctx, actor, i18n, app)
    )
    kb = markup(
        [button(i18n("trainee.status.print"), StatusCb(a="pdf", app=app.id or 0))],
        [button(i18n("trainee.apply.other_batches"), _cb("batches"))],
    )
    return text, kb


# --- the router -------------------------------------------------------------------------------


def build_router() -> Router:
    router = trainee_router(name="trainee-apply")

    @router.message(Command("apply"))
    async def apply_command(message: Message, account: Account, env: Env) -> None:
        await env.state.clear()
        draft = await trainee_status.open_draft(env.ctx, env.actor)
        if draft is not None:
            text, kb = await _screen(env, draft[0])
        else:
            text, kb = await batches_screen(env.ctx, env.actor, account, env.i18n)
        await message.answer(text, reply_markup=kb)

    @router.callback_query(ApplyCb.filter(F.a == "batches"))
    async def batches(
        query: CallbackQuery, callback_data: ApplyCb, account: Account, env: Env
    ) -> None:
        await env.state.clear()
        text, kb = await batches_screen(env.ctx, env.actor, account, env.i18n, callback_data.p)
        await query.answer()
        await show(query, text, kb)

    @router.callback_query(ApplyCb.filter(F.a == "batch"))
    async def choose_batch(query: CallbackQuery, callback_data: ApplyCb, env: Env) -> None:
        i18n = env.i18n
        try:
            app = await application.start(env.ctx, env.actor, _int(callback_data.v))
        except DomainError as err:
            if err.code != "app.profile_incomplete":
                raise
            await query.answer()
            kb = markup(
                [button(i18n("trainee.profile.fix"), ProfileCb(a="fix"))],
                nav_row(i18n, _cb("batches")),
            )
            await show(query, i18n.error(err.code, err.params), kb)
            return
        await env.ctx.session.commit()
        text, kb = await _screen(env, app)
        await query.answer()
        await show(query, text, kb)

    @router.callback_query(ApplyCb.filter(F.a.in_({"resume", "page"})))
    async def resume(query: CallbackQuery, callback_data: ApplyCb, env: Env) -> None:
        app = await trainee_status.own_application(env.ctx, env.actor, callback_data.app)
        page = callback_data.p if callback_data.a == "page" and callback_data.v == app.step else 0
        if await env.state.get_state() is not None:
            await env.state.clear()  # leaves a typed question; a shown list keeps its filter
        text, kb = await _screen(env, app, page)
        await query.answer()
        await show(query, text, kb)

    @router.callback_query(ApplyCb.filter(F.a == "goto"))
    async def goto(query: CallbackQuery, callback_data: ApplyCb, env: Env) -> None:
        app = await application.go_to_step(env.ctx, env.actor, callback_data.app, callback_data.v)
        await env.ctx.session.commit()
        text, kb = await _screen(env, app)
        await query.answer()
        await show(query, text, kb)

    @router.callback_query(ApplyCb.filter(F.a.in_(set(ACTION_STEP))))
    async def answer(query: CallbackQuery, callback_data: ApplyCb, env: Env) -> None:
        cb, ctx, actor, i18n, state = callback_data, env.ctx, env.actor, env.i18n, env.state
        app = await trainee_status.own_application(ctx, actor, cb.app)
        draft = ApplicationStatus(app.status) is ApplicationStatus.DRAFT
        if draft and app.step != ACTION_STEP[cb.a]:
            # A button of a step already left: say so, and show where the wizard stands.
            await query.answer(
                i18n("trainee.apply.stale_step", step=i18n.label("step", app.step)), show_alert=True
            )
            text, kb = await _screen(env, app)
            await show(query, text, kb)
            return
        if cb.a == "submit":
            # Only the question: the submit itself is the next press ("confirm"). Asked only
            # of a draft that could be submitted now.
            await application.go_to_step(ctx, actor, cb.app, app.step)
            missing = application.missing_steps(app)
            if missing:
                raise DomainError("app.step_missing", step=missing[0])
            await query.answer()
            await show(
                query, await _confirm_text(ctx, actor, i18n, app), _confirm_markup(i18n, app)
            )
            return
        if cb.a == "qual":
            await application.go_to_step(ctx, actor, cb.app, app.step)  # still a draft, open
            await state.set_state(ApplyInput.qualification_no)
            await state.set_data({"app": app.id})
            await query.answer()
            await show(
                query, i18n("trainee.apply.qual_ask"), markup(nav_row(i18n, _cb("resume", app)))
            )
            return
        app = await _apply_answer(ctx, actor, app, cb)
        await ctx.session.commit()
        await query.answer()
        if cb.a == "confirm":
            await status_card.refresh(env.bot, ctx, actor, i18n)
            text = (
                i18n("trainee.apply.submitted")
                + "\n\n"
                + await status_card.card_text(ctx, actor, i18n, app)
            )
            kb = markup([button(i18n("trainee.status.print"), StatusCb(a="pdf", app=app.id or 0))])
            await show(query, text, kb)
            return
        text, kb = await _screen(env, app)
        await show(query, text, kb)

    @router.message(ApplyInput.qualification_no, not_command)
    async def qualification_no(message: Message, env: Env) -> None:
        i18n = env.i18n
        data = await env.state.get_data()
        try:
            app = await application.save_supplement(
                env.ctx, env.actor, int(data["app"]), {"qualification_no": message.text or ""}
            )
        except DomainError as err:
            await message.answer(
                i18n.error(err.code, err.params) + "\n\n" + i18n("trainee.apply.qual_ask"),
                reply_markup=markup(nav_row(i18n, _cb("resume", int(data["app"])))),
            )
            return
        await env.state.clear()
        await env.ctx.session.commit()
        text, kb = await _screen(env, app)
        await message.answer(text, reply_markup=kb)

    return router


async def _screen(env: Env, app: Application, page: int = 0) -> tuple[str, InlineKeyboardMarkup]:
    """The wizard where the application stands, with the Mini App's choice where it has one."""
    return await screen(
        env.ctx, env.actor, env.i18n, env.state, app, page, settings=env.services.settings
    )


async def _apply_answer(ctx: Ctx, actor: Actor, app: Application, cb: ApplyCb) -> Application:
    """The workflow transition a wizard button stands for."""
    app_id = app.id or 0
    if cb.a == "ptype":
        return await application.choose_personnel_type(ctx, actor, app_id, cb.v)
    if cb.a == "info":
        return await application.confirm_info(ctx, actor, app_id)
    if cb.a == "sup":
        key, _, value = cb.v.partition("-")
        field = {"fresh": "fresh_graduate", "qual": "has_qualification"}.get(key, key)
        return await application.save_supplement(ctx, actor, app_id, {field: value == "1"})
    if cb.a == "supdone":
        return await application.finish_supplement(ctx, actor, app_id)
    if cb.a == "spec":
        return await application.choose_specialty(ctx, actor, app_id, _int(cb.v))
    if cb.a == "base":
        return await application.choose_base(ctx, actor, app_id, _int(cb.v))
    if cb.a == "site":
        return await application.choose_site(ctx, actor, app_id, _int(cb.v))
    if cb.a == "reas":
        return await application.set_reassignment(ctx, actor, app_id, cb.v == "1")
    return await application.submit(ctx, actor, app_id)  # "confirm"


def _int(value: str) -> int:
    number = record_id(value)
    if number is None:
        raise DomainError("not_found", what="application")
    return number


async def _confirm_text(ctx: Ctx, actor: Actor, i18n: Translator, app: Application) -> str:
    return "\n".join(
        [
            i18n("trainee.apply.confirm_title"),
            *await _review_lines(ctx, actor, i18n, app),
            "",
            i18n("trainee.apply.warning"),
        ]
    )


def _confirm_markup(i18n: Translator, app: Application) -> InlineKeyboardMarkup:
    return markup(
        [button(i18n("trainee.apply.confirm_yes"), _cb("confirm", app))],
        [button(i18n("trainee.apply.confirm_no"), _cb("resume", app))],
    )
