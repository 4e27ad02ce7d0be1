"""The profile as whole-module forms (the Mini App): one module's values saved at once through
the same functions the chat calls field by field, and how complete the profile would be with
the values of unsaved drafts.

A module is saved in the caller's one transaction: a refusal of any field or record leaves the
module as it was. A refusal about a record carries its position in the form (`record`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import date
from types import SimpleNamespace
from typing import Any

from workflow import drafts, profile
from workflow.actor import Actor
from workflow.completeness import Completeness, education_problems, work_problems
from workflow.context import Ctx
from workflow.errors import DomainError
from workflow.identity import birth_date_of, gender_of, mask_id, mask_phone
from workflow.profile import EDUCATION_FLAGS, EducationInput, ProfileView, WorkInput

BASIC_FIELDS = ("gender", "birth_date", "ethnicity", "political_status")
CONTACT_FIELDS = ("email", "address", "emergency_name", "emergency_phone")
EDU_FIELDS = ("school", "major", "level", "start_date", "end_date")
WORK_FIELDS = ("unit_name", "position", "start_date", "end_date", "is_current")
MODULE_FORMS = {m: f"profile.{m}" for m in ("basic", "contact", "education", "work")}


def _plain(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    return value.value if hasattr(value, "value") else value


def _same(a: Any, b: Any) -> bool:
    norm = [("" if v is None else str(_plain(v)).strip()) for v in (a, b)]
    return norm[0] == norm[1]


def saved_values(ctx: Ctx, view: ProfileView) -> dict[str, dict[str, Any]]:
    """What each module's form shows for the saved profile (the emergency phone masked: it is
    typed again only to change it)."""
    p = view.profile
    emergency = (
        ctx.cipher.decrypt("emergency_phone", p.emergency_phone_enc)
        if p.emergency_phone_enc
        else None
    )
    return {
        "basic": {f: _plain(getattr(p, f)) for f in BASIC_FIELDS},
        "contact": {
            "email": p.email,
            "address": p.address,
            "emergency_name": p.emergency_name,
            "emergency_phone": "",
            "emergency_phone_masked": mask_phone(emergency) if emergency else None,
        },
        "education": {
            "records": [
                {
                    "id": r.id,
                    **{f: _plain(getattr(r, f)) for f in EDU_FIELDS},
                    **{f: bool(getattr(r, f)) for f in EDUCATION_FLAGS},
                }
                for r in view.education
            ]
        },
        "work": {
            "has_work_unit": p.has_work_unit,
            "records": [
                {"id": r.id, **{f: _plain(getattr(r, f)) for f in WORK_FIELDS}} for r in view.work
            ],
        },
    }


def identity(ctx: Ctx, view: ProfileView) -> dict[str, Any]:
    """The fixed part of the basic module and the verified phone, masked as in the chat; with
    the gender and birth date the ID number carries, to fill in."""
    p = view.profile
    number = ctx.cipher.decrypt("id_number", p.id_number_enc)
    phone = ctx.cipher.decrypt("phone", p.phone_enc) if p.phone_enc else None
    born = birth_date_of(p.id_type, number)
    return {
        "name": p.name,
        "id_type": _plain(p.id_type),
        "id_number": mask_id(number),
        "phone": mask_phone(phone) if phone else None,
        "phone_verified": p.phone_verified_at is not None,
        "suggested": {"gender": gender_of(p.id_type, number), "birth_date": _plain(born)},
    }


def _filled(value: Any) -> bool:
    return value not in (None, "")


def preview(view: ProfileView, forms: Mapping[str, Mapping[str, Any]]) -> Completeness:
    """The completeness of the profile if the given module forms were saved as they are (their
    values' own checks come at saving)."""
    p = view.profile
    merged = SimpleNamespace(
        **{f: getattr(p, f) for f in BASIC_FIELDS},
        phone_verified_at=p.phone_verified_at,
        email=p.email,
        address=p.address,
        emergency_name=p.emergency_name,
        emergency_phone_enc=p.emergency_phone_enc,
    )
    for module, names in (("basic", BASIC_FIELDS), ("contact", CONTACT_FIELDS)):
        form = forms.get(module)
        if form is None:
            continue
        for name in names:
            if name in form:
                attr = "emergency_phone_enc" if name == "emergency_phone" else name
                if name == "emergency_phone":
                    if _filled(form[name]):
                        setattr(merged, attr, b"typed")
                else:
                    setattr(merged, attr, form[name] if _filled(form[name]) else None)
    education: list[Any] = view.education
    if "education" in forms:
        education = [
            SimpleNamespace(
                level=r.get("level") or "bachelor",
                **{f: bool(r.get(f)) for f in EDUCATION_FLAGS},
            )
            for r in _records(forms["education"])
        ]
    has_unit, work = p.has_work_unit, list(view.work)
    if "work" in forms:
        has_unit = forms["work"].get("has_work_unit", has_unit)
        work = [
            SimpleNamespace(is_current=bool(r.get("is_current"))) for r in _records(forms["work"])
        ]
    return Completeness(
        tuple(
            profile.basic_problems(merged)  # type: ignore[arg-type]
            + profile.contact_problems(merged)  # type: ignore[arg-type]
            + education_problems(education)
            + work_problems(has_unit, work)
        )
    )


def _records(form: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    records = form.get("records") or []
    if not isinstance(records, list) or not all(isinstance(r, Mapping) for r in records):
        raise DomainError("field.choice", field="records")
    return records


async def _each_record(
    records: list[Mapping[str, Any]], work: Callable[[int, Mapping[str, Any]], Awaitable[None]]
) -> None:
    for index, record in enumerate(records):
        try:
            await work(index, record)
        except DomainError as exc:
            exc.params.setdefault("record", index)
            raise


def _record_id(record: Mapping[str, Any], what: str) -> int | None:
    rid = record.get("id")
    if rid in (None, ""):
        return None
    try:
        return int(rid)
    except (TypeError, ValueError):
        raise DomainError("not_found", what=what) from None


async def _save_basic(ctx: Ctx, actor: Actor, view: ProfileView, form: Mapping[str, Any]) -> None:
    for name in BASIC_FIELDS:
        value = form.get(name)
        if _filled(value) and not _same(getattr(view.profile, name), value):
            await profile.set_basic(ctx, actor, name, value)


async def _save_contact(ctx: Ctx, actor: Actor, view: ProfileView, form: Mapping[str, Any]) -> None:
    for name in CONTACT_FIELDS:
        value = form.get(name)
        if not _filled(value):
            continue  # the emergency phone is typed only to change it; nothing else is cleared
        if name != "emergency_phone" and _same(getattr(view.profile, name), value):
            continue
        await profile.set_contact(ctx, actor, name, str(value))


async def _save_education(
    ctx: Ctx, actor: Actor, view: ProfileView, form: Mapping[str, Any]
) -> None:
    records = _records(form)
    saved = {r.id: r for r in view.education}
    kept = {_record_id(r, "education") for r in records} - {None}
    for rid in saved.keys() - kept:
        await profile.remove_education(ctx, actor, rid)  # type: ignore[arg-type]
    ids: list[int] = []

    async def save(_index: int, record: Mapping[str, Any]) -> None:
        data = EducationInput(**{f: record.get(f) or "" for f in EDU_FIELDS})  # type: ignore[arg-type]
        rid = _record_id(record, "education")
        if rid is None:
            ids.append((await profile.add_education(ctx, actor, data)).id or 0)
            return
        old = saved.get(rid)
        if old is None or not all(_same(getattr(old, f), record.get(f)) for f in EDU_FIELDS):
            await profile.edit_education(ctx, actor, rid, data)  # refuses a record not theirs
        ids.append(rid)

    await _each_record(records, save)
    # Flags: those taken off first, then those put on (putting one on moves it there).
    for on in (False, True):

        async def flag(index: int, record: Mapping[str, Any], on: bool = on) -> None:
            old = saved.get(ids[index])
            for name in EDUCATION_FLAGS:
                wanted = bool(record.get(name))
                had = bool(getattr(old, name)) if old is not None else False
                if wanted is on and wanted != had:
                    await profile.set_education_flag(ctx, actor, ids[index], name, on)

        await _each_record(records, flag)


async def _save_work(ctx: Ctx, actor: Actor, view: ProfileView, form: Mapping[str, Any]) -> None:
    records = _records(form)
    has_unit = form.get("has_work_unit")
    if has_unit is not None and has_unit != view.profile.has_work_unit:
        await profile.set_has_work_unit(ctx, actor, bool(has_unit))
    saved = {r.id: r for r in view.work}
    kept = {_record_id(r, "work") for r in records} - {None}
    for rid in saved.keys() - kept:
        await profile.remove_work(ctx, actor, rid)  # type: ignore[arg-type]

    async def save(_index: int, record: Mapping[str, Any]) -> None:
        data = WorkInput(
            unit_name=record.get("unit_name") or "",
            position=record.get("position") or None,
            start_date=record.get("start_date") or "",
            end_date=record.get("end_date") or None,
            is_current=bool(record.get("is_current")),
        )
        rid = _record_id(record, "work")
        if rid is None:
            await profile.add_work(ctx, actor, data)
            return
        old = saved.get(rid)
        if old is None or not all(_same(getattr(old, f), record.get(f)) for f in WORK_FIELDS):
            await profile.edit_work(ctx, actor, rid, data)

    await _each_record(records, save)


SAVERS = {
    "basic": _save_basic,
    "contact": _save_contact,
    "education": _save_education,
    "work": _save_work,
}


async def save_module(ctx: Ctx, actor: Actor, module: str, form: Mapping[str, Any]) -> ProfileView:
    """Save one module's form; its draft is dropped. Returns the profile as now saved."""
    saver = SAVERS.get(module)
    if saver is None:
        raise DomainError("field.unknown", field=module)
    view = await profile.view(ctx, actor)
    await saver(ctx, actor, view, form)
    await drafts.drop(ctx, actor, MODULE_FORMS[module])
    await ctx.session.flush()
    return await profile.view(ctx, actor)


async def keep_draft(ctx: Ctx, actor: Actor, module: str, form: Mapping[str, Any]) -> Completeness:
    """Keep a module's unsaved form; the completeness the profile would have with it."""
    if module not in MODULE_FORMS:
        raise DomainError("field.unknown", field=module)
    view = await profile.view(ctx, actor)
    await drafts.keep(ctx, actor, MODULE_FORMS[module], dict(form))
    return preview(view, await module_drafts(ctx, actor))


async def module_drafts(ctx: Ctx, actor: Actor) -> dict[str, dict[str, Any]]:
    """The unsaved forms, by module."""
    found = await drafts.load_all(ctx, actor, "profile.")
    return {form.removeprefix("profile."): values for form, values in found.items()}


async def drop_draft(ctx: Ctx, actor: Actor, module: str) -> None:
    if module not in MODULE_FORMS:
        raise DomainError("field.unknown", field=module)
    await drafts.drop(ctx, actor, MODULE_FORMS[module])
