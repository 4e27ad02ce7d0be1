"""学员信息维护 (the guide's §二): the four modules, each viewable and editable on its own, and a
menu that always shows how complete they are, what exactly is missing, and leads there in one
press. Typed answers are checked by the workflow; a wrong one is asked again, nothing saved is
lost. Education and work records are added field by field and edited one field at a time."""

from __future__ import annotations

from typing import Any

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot import lists
from bot.config import Settings
from bot.i18n import Translator
from bot.keyboards import nav_row, page_of, pager_row
from bot.miniapp.links import miniapp_row
from handlers.trainee.cb import (
    BASIC_FIELDS,
    CONTACT_FIELDS,
    EDU_FIELDS,
    WORK_FIELDS,
    ApplyCb,
    ProfileCb,
)
from handlers.trainee.env import Env, trainee_router
from handlers.trainee.states import ProfileInput
from handlers.trainee.ui import button, markup, not_command, show
from handlers.trainee.views import row
from storage.models import EducationRecord, WorkRecord
from workflow import profile, trainee_status
from workflow.actor import Actor
from workflow.completeness import MODULES, Problem
from workflow.context import Ctx
from workflow.enums import EducationLevel, Gender
from workflow.errors import DomainError, NotFound
from workflow.identity import mask_id, mask_phone
from workflow.profile import ETHNICITIES, POLITICAL_STATUSES, EducationInput, WorkInput

MODULE_FIELDS = {
    "basic": BASIC_FIELDS,
    "contact": CONTACT_FIELDS,
    "education": EDU_FIELDS,
    "work": WORK_FIELDS,
}
DATE_FIELDS = ("birth_date", "start_date", "end_date")
# Fields answered with buttons rather than typed.
CHOICE_FIELDS = ("gender", "ethnicity", "political_status", "level", "is_current")
ETHNICITY_PAGE = 12


def _cb(**kw: Any) -> ProfileCb:
    return ProfileCb(**kw)


# --- where a problem leads ------------------------------------------------------------------


def fix_target(problem: Problem) -> ProfileCb:
    """The one press that leads to what a problem says is missing."""
    code = problem.code
    if code.startswith("basic.missing_"):
        return _cb(a="edit", m="basic", f=code.removeprefix("basic.missing_"))
    if code.startswith("contact.missing_"):
        return _cb(a="edit", m="contact", f=code.removeprefix("contact.missing_"))
    if code in ("edu.none", "edu.need_bachelor"):
        return _cb(a="add", m="education")
    if code == "work.no_records":
        return _cb(a="add", m="work")
    return _cb(a="mod", m=problem.module)


# --- screens --------------------------------------------------------------------------------


def _mark(done: bool) -> str:
    return "✅" if done else "❌"


async def menu_screen(
    ctx: Ctx, actor: Actor, i18n: Translator, settings: Settings | None = None
) -> tuple[str, InlineKeyboardMarkup]:
    """The four modules and what is missing; `settings` offer the Mini App's form."""
    view = await profile.view(ctx, actor)
    c = view.completeness
    lines = [i18n("trainee.profile.menu_title", done=c.done_count, total=len(MODULES))]
    for module in MODULES:
        lines.append(
            f"{_mark(c.module_complete(module))} {i18n(f'trainee.profile.module.{module}')}"
        )
        lines += [f"   · {i18n(f'problem.{p.code}')}" for p in c.missing(module)]
    lines.append("")
    lines.append(i18n("trainee.profile.complete" if c.complete else "trainee.profile.incomplete"))
    mods = [
        button(
            f"{_mark(c.module_complete(m))} {i18n(f'trainee.profile.module.{m}')}",
            _cb(a="mod", m=m),
        )
        for m in MODULES
    ]
    rows = [mods[:2], mods[2:]]
    if c.problems:
        rows.append([button(i18n("trainee.profile.fix"), fix_target(c.problems[0]))])
    rows.append(miniapp_row(settings, i18n("miniapp.open_profile"), "profile.html"))
    draft = await trainee_status.open_draft(ctx, actor)
    if draft is not None:
        app, _batch = draft
        rows.append(
            [
                button(
                    i18n("trainee.profile.back_to_apply", step=i18n.label("step", app.step)),
                    ApplyCb(a="resume", app=app.id or 0),
                )
            ]
        )
    rows.append(nav_row(i18n))
    return "\n".join(lines), markup(*rows)


def _value(i18n: Translator, value: Any) -> str:
    if value is None or value == "":
        return i18n("trainee.profile.empty")
    if isinstance(value, bool):
        return i18n("common.yes") if value else i18n("common.no")
    return str(value)


def _missing_lines(i18n: Translator, problems: list[Problem]) -> list[str]:
    if not problems:
        return []
    return ["", i18n("trainee.profile.missing")] + [
        f"· {i18n(f'problem.{p.code}')}" for p in problems
    ]


def _level(i18n: Translator, level: Any) -> str:
    return i18n(f"trainee.profile.level.{EducationLevel(level).value}")


def _edu_line(i18n: Translator, n: int, rec: EducationRecord) -> str:
    flags = [i18n(f"label.field.{f}") for f in profile.EDUCATION_FLAGS if getattr(rec, f)]
    tail = f" [{i18n('trainee.sep').join(flags)}]" if flags else ""
    return (
        i18n(
            "trainee.profile.edu_line",
            n=n,
            school=rec.school,
            major=rec.major,
            level=_level(i18n, rec.level),
            start=rec.start_date,
            end=rec.end_date,
        )
        + tail
    )


def _work_line(i18n: Translator, n: int, rec: WorkRecord) -> str:
    return i18n(
        "trainee.profile.work_line",
        n=n,
        unit=rec.unit_name,
        position=rec.position or "—",
        start=rec.start_date,
        end=rec.end_date or i18n("trainee.profile.until_now"),
    ) + (f" · {i18n('trainee.profile.is_current')}" if rec.is_current else "")


async def module_screen(
    ctx: Ctx, actor: Actor, i18n: Translator, module: str, page: int = 0
) -> tuple[str, InlineKeyboardMarkup]:
    view = await profile.view(ctx, actor)
    p, c = view.profile, view.completeness
    title = i18n(
        "trainee.profile.module_title",
        module=i18n(f"trainee.profile.module.{module}"),
        mark=_mark(c.module_complete(module)),
    )
    lines = [title]
    rows: list[list[InlineKeyboardButton]] = []
    back = _cb(a="menu")
    if module == "basic":
        number = ctx.cipher.decrypt("id_number", p.id_number_enc)
        lines += [
            i18n(
                "trainee.profile.fixed_identity",
                name=p.name,
                id_type=i18n.label("id_type", p.id_type),
                number=mask_id(number),
            ),
            row(i18n, "label.field.gender", _gender(i18n, p.gender)),
            row(i18n, "label.field.birth_date", _value(i18n, p.birth_date)),
            row(i18n, "label.field.ethnicity", _value(i18n, p.ethnicity)),
            row(i18n, "label.field.political_status", _value(i18n, p.political_status)),
        ]
        edits = [
            button(i18n(f"label.field.{f}"), _cb(a="edit", m="basic", f=f)) for f in BASIC_FIELDS
        ]
        rows += [edits[:2], edits[2:]]
    elif module == "contact":
        phone = ctx.cipher.decrypt("phone", p.phone_enc) if p.phone_enc else None
        emergency = (
            ctx.cipher.decrypt("emergency_phone", p.emergency_phone_enc)
            if p.emergency_phone_enc
            else None
        )
        verified = i18n("trainee.profile.verified") if p.phone_verified_at else ""
        lines += [
            row(i18n, "trainee.profile.phone", f"{mask_phone(phone) if phone else '—'} {verified}"),
            row(i18n, "label.field.email", _value(i18n, p.email)),
            row(i18n, "label.field.address", _value(i18n, p.address)),
            row(i18n, "label.field.emergency_name", _value(i18n, p.emergency_name)),
            row(
                i18n,
                "label.field.emergency_phone",
                mask_phone(emergency) if emergency else _value(i18n, None),
            ),
        ]
        edits = [
            button(i18n(f"label.field.{f}"), _cb(a="edit", m="contact", f=f))
            for f in CONTACT_FIELDS
        ]
        rows += [edits[:2], edits[2:]]
    elif module == "education":
        shown, page, pages = page_of(view.education, page)
        if not view.education:
            lines.append(i18n("trainee.profile.no_records"))
        lines += [_edu_line(i18n, page * 8 + i + 1, r) for i, r in enumerate(shown)]
        lines.append(i18n("trainee.profile.edu_rules"))
        rows += [
            [
                button(
                    f"{page * 8 + i + 1}. {r.school} · {_level(i18n, r.level)}",
                    _cb(a="rec", m="education", r=r.id or 0),
                )
            ]
            for i, r in enumerate(shown)
        ]
        rows.append(pager_row(i18n, page, pages, lambda n: _cb(a="page", m="education", p=n)))
        rows.append([button(i18n("trainee.profile.add_education"), _cb(a="add", m="education"))])
    elif module == "work":
        answer = {
            None: i18n("trainee.profile.unanswered"),
            True: i18n("trainee.profile.has_unit"),
            False: i18n("trainee.profile.no_unit"),
        }[p.has_work_unit]
        lines.append(row(i18n, "trainee.profile.has_work_unit", answer))
        shown, page, pages = page_of(view.work, page)
        if not view.work:
            lines.append(i18n("trainee.profile.no_records"))
        lines += [_work_line(i18n, page * 8 + i + 1, r) for i, r in enumerate(shown)]
        lines.append(i18n("trainee.profile.work_rules"))
        rows.append(
            [
                button(
                    ("☑ " if p.has_work_unit is True else "") + i18n("trainee.profile.has_unit"),
                    _cb(a="set", m="work", f="has_unit", v="1"),
                ),
                button(
                    ("☑ " if p.has_work_unit is False else "") + i18n("trainee.profile.no_unit"),
                    _cb(a="set", m="work", f="has_unit", v="0"),
                ),
            ]
        )
        rows += [
            [button(f"{page * 8 + i + 1}. {r.unit_name}", _cb(a="rec", m="work", r=r.id or 0))]
            for i, r in enumerate(shown)
        ]
        rows.append(pager_row(i18n, page, pages, lambda n: _cb(a="page", m="work", p=n)))
        rows.append([button(i18n("trainee.profile.add_work"), _cb(a="add", m="work"))])
    else:
        raise NotFound("profile")
    lines += _missing_lines(i18n, c.missing(module))
    rows.append(nav_row(i18n, back))
    return "\n".join(lines), markup(*rows)


def _gender(i18n: Translator, gender: Any) -> str:
    return i18n(f"trainee.profile.gender.{Gender(gender).value}") if gender else _value(i18n, None)


async def _record(ctx: Ctx, actor: Actor, module: str, rid: int) -> EducationRecord | WorkRecord:
    view = await profile.view(ctx, actor)
    records = view.education if module == "education" else view.work
    for rec in records:
        if rec.id == rid:
            return rec
    raise NotFound(module)


async def record_screen(
    ctx: Ctx, actor: Actor, i18n: Translator, module: str, rid: int
) -> tuple[str, InlineKeyboardMarkup]:
    rec = await _record(ctx, actor, module, rid)
    back = _cb(a="mod", m=module)
    if isinstance(rec, EducationRecord):
        lines = [
            i18n("trainee.profile.edu_record"),
            row(i18n, "label.field.school", rec.school),
            row(i18n, "label.field.major", rec.major),
            row(i18n, "label.field.level", _level(i18n, rec.level)),
            row(i18n, "label.field.start_date", rec.start_date),
            row(i18n, "label.field.end_date", rec.end_date),
        ]
        flags = [
            button(
                ("☑ " if getattr(rec, f) else "☐ ") + i18n(f"label.field.{f}"),
                _cb(a="flag", m=module, f=f, r=rid),
            )
            for f in profile.EDUCATION_FLAGS
        ]
        lines.append(i18n("trainee.profile.flags_hint"))
        edits = [
            button(i18n(f"label.field.{f}"), _cb(a="edit", m=module, f=f, r=rid))
            for f in EDU_FIELDS
        ]
        rows = [flags, edits[:3], edits[3:]]
    else:
        lines = [
            i18n("trainee.profile.work_record"),
            row(i18n, "label.field.unit_name", rec.unit_name),
            row(i18n, "label.field.position", _value(i18n, rec.position)),
            row(i18n, "label.field.start_date", rec.start_date),
            row(i18n, "label.field.end_date", rec.end_date or i18n("trainee.profile.until_now")),
            row(i18n, "trainee.profile.is_current", _value(i18n, rec.is_current)),
        ]
        edits = [
            button(i18n(f"label.field.{f}"), _cb(a="edit", m=module, f=f, r=rid))
            for f in WORK_FIELDS[:4]
        ]
        current = button(
            ("☑ " if rec.is_current else "☐ ") + i18n("trainee.profile.is_current"),
            _cb(a="cur", m=module, r=rid),
        )
        rows = [[current], edits[:2], edits[2:]]
    rows.append([button(i18n("trainee.profile.delete"), _cb(a="del", m=module, r=rid))])
    rows.append(nav_row(i18n, back))
    return "\n".join(lines), markup(*rows)


# --- asking one field -----------------------------------------------------------------------


def _back_of(module: str, rid: int) -> ProfileCb:
    return _cb(a="rec", m=module, r=rid) if rid else _cb(a="mod", m=module)


def field_prompt(
    i18n: Translator,
    module: str,
    field: str,
    rid: int,
    *,
    adding: bool = False,
    page: int = 0,
    query: str = "",
) -> tuple[str, InlineKeyboardMarkup]:
    """The question for one field, with the buttons of its choices where it has any."""
    text = i18n(f"trainee.profile.ask.{field}")
    if adding:
        steps = EDU_FIELDS if module == "education" else WORK_FIELDS
        text = (
            i18n("trainee.profile.adding", n=steps.index(field) + 1, total=len(steps)) + "\n" + text
        )
    rows: list[list[InlineKeyboardButton]] = []

    def choose(value: str) -> ProfileCb:
        return _cb(a="set", m=module, f=field, r=rid, v=value)

    if field == "gender":
        rows.append(
            [button(i18n(f"trainee.profile.gender.{g.value}"), choose(g.value)) for g in Gender]
        )
    elif field == "political_status":
        opts = [button(s, choose(str(i))) for i, s in enumerate(POLITICAL_STATUSES)]
        rows += [opts[i : i + 3] for i in range(0, len(opts), 3)]
    elif field == "ethnicity":
        found = lists.choose(
            list(enumerate(ETHNICITIES)), page, query, lambda e: (e[1],), ETHNICITY_PAGE
        )
        text = "\n".join([text, *lists.hint(i18n, found)])
        opts = [button(name, choose(str(i))) for i, name in found.shown]
        rows += [opts[i : i + 3] for i in range(0, len(opts), 3)]
        rows += lists.rows(i18n, found, lambda n: _cb(a="edit", m=module, f=field, r=rid, p=n))
    elif field == "level":
        rows.append([button(_level(i18n, lv), choose(lv.value)) for lv in EducationLevel])
    elif field == "is_current":
        rows.append(
            [button(i18n("common.yes"), choose("1")), button(i18n("common.no"), choose("0"))]
        )
    elif field == "position":
        rows.append([button(i18n("trainee.profile.skip"), choose(""))])
    elif field == "end_date" and module == "work":
        rows.append([button(i18n("trainee.profile.until_now"), choose(""))])
    rows.append(nav_row(i18n, _back_of(module, rid)))
    return text, markup(*rows)


async def ask_field(
    event: Message | CallbackQuery,
    state: FSMContext,
    i18n: Translator,
    module: str,
    field: str,
    rid: int,
    new: dict[str, Any] | None = None,
    page: int = 0,
) -> None:
    """Show the question; typed fields wait for the answer in ProfileInput.value. The long
    list of 民族 is filtered by what is typed (bot/lists.py)."""
    shown_list = (await state.get_data()).get(lists.LIST_KEY) if field == "ethnicity" else None
    await state.set_state(ProfileInput.value)
    data = {"m": module, "f": field, "r": rid, "new": new}
    await state.set_data({**data, lists.LIST_KEY: shown_list} if shown_list else data)
    query = (
        await lists.shown(state, "ethnicity", f"{module}:{rid}")
        if shown_list or field == "ethnicity"
        else ""
    )
    text, kb = field_prompt(
        i18n, module, field, rid, adding=new is not None, page=page, query=query
    )
    await show(event, text, kb)


async def search_screen(event: Message | CallbackQuery, key: str, data: dict[str, Any]) -> bool:
    """The renderer of typed filters (bot/lists.py): the 民族 buttons again, filtered."""
    state: FSMContext = data["state"]
    values = await state.get_data()
    if await state.get_state() != ProfileInput.value.state or values.get("f") != "ethnicity":
        return False
    module, rid = values["m"], int(values.get("r") or 0)
    if isinstance(event, CallbackQuery):
        await event.answer()
    await ask_field(event, state, data["i18n"], module, "ethnicity", rid, new=values.get("new"))
    return True


def _edu_input(rec: EducationRecord, **changes: Any) -> EducationInput:
    values = {f: getattr(rec, f) for f in EDU_FIELDS}
    values.update(changes)
    return EducationInput(**values)


def _work_input(rec: WorkRecord, **changes: Any) -> WorkInput:
    values = {f: getattr(rec, f) for f in WORK_FIELDS}
    values.update(changes)
    return WorkInput(**values)


def _parse(field: str, text: str) -> Any:
    """A typed answer as its field takes it (dates are checked at once)."""
    if field in DATE_FIELDS:
        return profile.parse_date(text, field).isoformat()
    return profile.check_typed(field, text)


async def save_field(ctx: Ctx, actor: Actor, module: str, field: str, rid: int, value: Any) -> None:
    """One field of a module or of an existing record, through the workflow's checks."""
    if module == "basic":
        await profile.set_basic(ctx, actor, field, value)
    elif module == "contact":
        await profile.set_contact(ctx, actor, field, value)
    elif module == "education":
        rec = await _record(ctx, actor, module, rid)
        await profile.edit_education(ctx, actor, rid, _edu_input(rec, **{field: value}))  # type: ignore[arg-type]
    elif module == "work":
        rec = await _record(ctx, actor, module, rid)
        await profile.edit_work(ctx, actor, rid, _work_input(rec, **{field: value}))  # type: ignore[arg-type]
    else:
        raise DomainError("field.unknown", field=field)


async def add_record(ctx: Ctx, actor: Actor, module: str, new: dict[str, Any]) -> int:
    if module == "education":
        rec = await profile.add_education(ctx, actor, EducationInput(**new))
    else:
        rec = await profile.add_work(ctx, actor, WorkInput(**new))
    return rec.id or 0


def _refused_field(err: DomainError, default: str, steps: tuple[str, ...]) -> str:
    """The field a refusal of a whole record is about, to ask that one again."""
    if err.code == "field.end_before_start" or err.code == "work.current_has_ended":
        return "end_date"
    if err.code == "work.current_without_unit":
        return "is_current"
    field = err.params.get("field")
    return field if field in steps else default


# --- the router -----------------------------------------------------------------------------


def build_router() -> Router:
    router = trainee_router(name="trainee-profile")

    @router.message(Command("profile"))
    async def profile_command(message: Message, env: Env) -> None:
        await env.state.clear()
        text, kb = await menu_screen(env.ctx, env.actor, env.i18n, env.services.settings)
        await message.answer(text, reply_markup=kb)

    @router.callback_query(ProfileCb.filter(F.a.in_({"menu", "mod", "page", "rec"})))
    async def navigate(query: CallbackQuery, callback_data: ProfileCb, env: Env) -> None:
        cb, ctx, actor, i18n = callback_data, env.ctx, env.actor, env.i18n
        if cb.a != "menu" and cb.m not in MODULE_FIELDS:
            raise DomainError("stale")  # no button leads to a module without a name
        if cb.a == "menu":
            text, kb = await menu_screen(ctx, actor, i18n, env.services.settings)
        elif cb.a == "rec":
            text, kb = await record_screen(ctx, actor, i18n, cb.m, cb.r)
        else:
            text, kb = await module_screen(ctx, actor, i18n, cb.m, cb.p)
        await env.state.clear()
        await query.answer()
        await show(query, text, kb)

    @router.callback_query(ProfileCb.filter(F.a == "fix"))
    async def fix(query: CallbackQuery, env: Env) -> None:
        view = await profile.view(env.ctx, env.actor)
        if view.completeness.complete:
            await query.answer(env.i18n("trainee.profile.nothing_missing"), show_alert=True)
            text, kb = await menu_screen(env.ctx, env.actor, env.i18n)
            await show(query, text, kb)
            return
        target = fix_target(view.completeness.problems[0])
        await query.answer()
        await act(query, target, env)

    @router.callback_query(ProfileCb.filter(F.a.in_({"edit", "add"})))
    async def edit_or_add(query: CallbackQuery, callback_data: ProfileCb, env: Env) -> None:
        await query.answer()
        await act(query, callback_data, env)

    async def act(query: CallbackQuery, cb: ProfileCb, env: Env) -> None:
        fields = MODULE_FIELDS.get(cb.m)
        if fields is None or (cb.a == "edit" and cb.f not in fields):
            raise DomainError("stale")  # no button asks for that
        if cb.a == "add" and cb.m not in ("education", "work"):
            raise DomainError("stale")
        if cb.a == "add":
            first = EDU_FIELDS[0] if cb.m == "education" else WORK_FIELDS[0]
            await ask_field(query, env.state, env.i18n, cb.m, first, 0, new={})
        elif cb.a == "edit":
            if cb.r:
                await _record(env.ctx, env.actor, cb.m, cb.r)  # still there, still theirs
            await ask_field(query, env.state, env.i18n, cb.m, cb.f, cb.r, page=cb.p)
        else:
            text, kb = await module_screen(env.ctx, env.actor, env.i18n, cb.m)
            await env.state.clear()
            await show(query, text, kb)

    @router.callback_query(ProfileCb.filter(F.a == "set"))
    async def set_choice(query: CallbackQuery, callback_data: ProfileCb, env: Env) -> None:
        cb, ctx, actor, i18n, state = callback_data, env.ctx, env.actor, env.i18n, env.state
        if cb.m == "work" and cb.f == "has_unit":
            await profile.set_has_work_unit(ctx, actor, cb.v == "1")
            await ctx.session.commit()
            await query.answer()
            text, kb = await module_screen(ctx, actor, i18n, "work")
            await show(query, text, kb)
            return
        value = _choice_value(cb)
        data = await state.get_data()
        adding = (
            await state.get_state() == ProfileInput.value.state
            and data.get("new") is not None
            and data.get("m") == cb.m
            and data.get("f") == cb.f
            and not cb.r
        )
        if adding:
            await query.answer()
            await next_step(query, env, cb.m, cb.f, value, data["new"])
            return
        if cb.m in ("education", "work") and not cb.r:
            # A choice of a record being added, pressed after that dialog ended.
            await query.answer(i18n("error.stale"), show_alert=True)
            return
        await save_field(ctx, actor, cb.m, cb.f, cb.r, value)
        await state.clear()
        await ctx.session.commit()
        await query.answer(i18n("trainee.profile.saved"))
        await show(query, *await _saved_screen(env, cb.m, cb.r))

    @router.callback_query(ProfileCb.filter(F.a == "flag"))
    async def flag(query: CallbackQuery, callback_data: ProfileCb, env: Env) -> None:
        rec = await _record(env.ctx, env.actor, "education", callback_data.r)
        if callback_data.f not in profile.EDUCATION_FLAGS:
            raise DomainError("field.unknown", field=callback_data.f)
        on = not getattr(rec, callback_data.f)
        await profile.set_education_flag(env.ctx, env.actor, callback_data.r, callback_data.f, on)
        await env.ctx.session.commit()
        await query.answer(env.i18n("trainee.profile.saved"))
        await show(query, *await _saved_screen(env, "education", callback_data.r))

    @router.callback_query(ProfileCb.filter(F.a == "cur"))
    async def toggle_current(query: CallbackQuery, callback_data: ProfileCb, env: Env) -> None:
        rec = await _record(env.ctx, env.actor, "work", callback_data.r)
        current = not rec.is_current
        await save_field(env.ctx, env.actor, "work", "is_current", callback_data.r, current)
        await env.ctx.session.commit()
        await query.answer(env.i18n("trainee.profile.saved"))
        await show(query, *await _saved_screen(env, "work", callback_data.r))

    @router.callback_query(ProfileCb.filter(F.a == "del"))
    async def delete(query: CallbackQuery, callback_data: ProfileCb, env: Env) -> None:
        module, rid, i18n = callback_data.m, callback_data.r, env.i18n
        rec = await _record(env.ctx, env.actor, module, rid)
        name = rec.school if isinstance(rec, EducationRecord) else rec.unit_name
        await query.answer()
        await show(
            query,
            i18n("trainee.profile.delete_confirm", name=name),
            markup(
                [button(i18n("trainee.profile.delete_yes"), _cb(a="del_yes", m=module, r=rid))],
                nav_row(i18n, _cb(a="rec", m=module, r=rid)),
            ),
        )

    @router.callback_query(ProfileCb.filter(F.a == "del_yes"))
    async def delete_yes(query: CallbackQuery, callback_data: ProfileCb, env: Env) -> None:
        if callback_data.m == "education":
            await profile.remove_education(env.ctx, env.actor, callback_data.r)
        else:
            await profile.remove_work(env.ctx, env.actor, callback_data.r)
        await env.ctx.session.commit()
        await query.answer(env.i18n("trainee.profile.deleted"))
        await show(query, *await module_screen(env.ctx, env.actor, env.i18n, callback_data.m))

    @router.message(ProfileInput.value, not_command)
    async def typed(message: Message, env: Env) -> None:
        i18n = env.i18n
        data = await env.state.get_data()
        module, field, rid, new = data["m"], data["f"], int(data.get("r") or 0), data.get("new")
        if field in CHOICE_FIELDS:
            await message.answer(i18n("trainee.profile.use_buttons"))
            return
        try:
            value = _parse(field, message.text or "")
            if new is not None:
                await next_step(message, env, module, field, value, new)
                return
            await save_field(env.ctx, env.actor, module, field, rid, value)
        except DomainError as err:
            text, kb = field_prompt(i18n, module, field, rid, adding=new is not None)
            await message.answer(i18n.error(err.code, err.params) + "\n\n" + text, reply_markup=kb)
            return
        await env.state.clear()
        await env.ctx.session.commit()
        text, kb = await _saved_screen(env, module, rid)
        await message.answer(i18n("trainee.profile.saved") + "\n\n" + text, reply_markup=kb)

    async def next_step(
        event: Message | CallbackQuery,
        env: Env,
        module: str,
        field: str,
        value: Any,
        new: dict[str, Any],
    ) -> None:
        """A field of a record being added: keep it, ask the next one, or add the record."""
        i18n, state = env.i18n, env.state
        steps = EDU_FIELDS if module == "education" else WORK_FIELDS
        new = {**new, field: value}
        following = [f for f in steps if f not in new]
        if following:
            await ask_field(event, state, i18n, module, following[0], 0, new=new)
            return
        try:
            rid = await add_record(env.ctx, env.actor, module, new)
        except DomainError as err:
            again = _refused_field(err, field, steps)
            new.pop(again, None)
            await state.set_data({"m": module, "f": again, "r": 0, "new": new})
            text, kb = field_prompt(i18n, module, again, 0, adding=True)
            refusal = i18n.error(err.code, err.params) + "\n\n" + text
            if isinstance(event, CallbackQuery):
                await show(event, refusal, kb)
            else:
                await event.answer(refusal, reply_markup=kb)
            return
        await state.clear()
        await env.ctx.session.commit()
        text, kb = await record_screen(env.ctx, env.actor, i18n, module, rid)
        added = i18n("trainee.profile.added")
        if isinstance(event, CallbackQuery):
            await show(event, added + "\n\n" + text, kb)
        else:
            await event.answer(added + "\n\n" + text, reply_markup=kb)

    return router


async def _saved_screen(env: Env, module: str, rid: int) -> tuple[str, InlineKeyboardMarkup]:
    """After a change: the record's screen, or the module's when no record is meant."""
    if rid:
        return await record_screen(env.ctx, env.actor, env.i18n, module, rid)
    return await module_screen(env.ctx, env.actor, env.i18n, module)


def _choice_value(cb: ProfileCb) -> Any:
    """The value a choice button stands for (checked again by the workflow)."""
    if cb.f == "ethnicity":
        return ETHNICITIES[int(cb.v)] if cb.v.isdigit() and int(cb.v) < len(ETHNICITIES) else cb.v
    if cb.f == "political_status":
        ok = cb.v.isdigit() and int(cb.v) < len(POLITICAL_STATUSES)
        return POLITICAL_STATUSES[int(cb.v)] if ok else cb.v
    if cb.f == "is_current":
        return cb.v == "1"
    if cb.f in ("position", "end_date"):
        return cb.v or None
    return cb.v
