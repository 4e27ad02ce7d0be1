"""The trainee's four profile modules: read, edit, and how complete they are."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select

from storage.models import Application, EducationRecord, TraineeProfile, WorkRecord
from workflow.actor import Actor, require_self
from workflow.audit import audit
from workflow.completeness import (
    Completeness,
    Problem,
    education_problems,
    work_problems,
)
from workflow.context import Ctx
from workflow.enums import (
    NEEDS_CURRENT_UNIT,
    ApplicationStatus,
    EducationLevel,
    Gender,
)
from workflow.errors import DomainError, NotFound
from workflow.identity import birth_date_of, gender_of, normalize_phone
from workflow.text import clean, column_limit, digits, nfkc

ETHNICITIES = [
    "汉族",
    "蒙古族",
    "回族",
    "藏族",
    "维吾尔族",
    "苗族",
    "彝族",
    "壮族",
    "布依族",
    "朝鲜族",
    "满族",
    "侗族",
    "瑶族",
    "白族",
    "土家族",
    "哈尼族",
    "哈萨克族",
    "傣族",
    "黎族",
    "傈僳族",
    "佤族",
    "畲族",
    "高山族",
    "拉祜族",
    "水族",
    "东乡族",
    "纳西族",
    "景颇族",
    "柯尔克孜族",
    "土族",
    "达斡尔族",
    "仫佬族",
    "羌族",
    "布朗族",
    "撒拉族",
    "毛南族",
    "仡佬族",
    "锡伯族",
    "阿昌族",
    "普米族",
    "塔吉克族",
    "怒族",
    "乌孜别克族",
    "俄罗斯族",
    "鄂温克族",
    "德昂族",
    "保安族",
    "裕固族",
    "京族",
    "塔塔尔族",
    "独龙族",
    "鄂伦春族",
    "赫哲族",
    "门巴族",
    "珞巴族",
    "基诺族",
    "其他",
    "外国血统",
]
POLITICAL_STATUSES = ("中共党员", "中共预备党员", "共青团员", "民主党派", "无党派人士", "群众")
EMAIL = re.compile(r"[^@\s]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")
# Each typed field's length is its column's.
TEXT_MAX = {
    "school": column_limit(EducationRecord, "school"),
    "major": column_limit(EducationRecord, "major"),
    "unit_name": column_limit(WorkRecord, "unit_name"),
    "position": column_limit(WorkRecord, "position"),
    "address": column_limit(TraineeProfile, "address"),
    "emergency_name": column_limit(TraineeProfile, "emergency_name"),
}


@dataclass
class ProfileView:
    profile: TraineeProfile
    education: list[EducationRecord]
    work: list[WorkRecord]
    completeness: Completeness


def basic_problems(p: TraineeProfile) -> list[Problem]:
    missing = [
        f for f in ("gender", "birth_date", "ethnicity", "political_status") if not getattr(p, f)
    ]
    return [Problem("basic", f"basic.missing_{f}") for f in missing]


def contact_problems(p: TraineeProfile) -> list[Problem]:
    out = []
    if p.phone_verified_at is None:
        out.append(Problem("contact", "contact.phone_unverified"))
    for f in ("email", "address", "emergency_name", "emergency_phone_enc"):
        if not getattr(p, f):
            out.append(Problem("contact", f"contact.missing_{f.removesuffix('_enc')}"))
    return out


def completeness(
    p: TraineeProfile, edu: list[EducationRecord], work: list[WorkRecord]
) -> Completeness:
    return Completeness(
        tuple(
            basic_problems(p)
            + contact_problems(p)
            + education_problems(edu)
            + work_problems(p.has_work_unit, work)
        )
    )


async def load(ctx: Ctx, account_id: int) -> ProfileView:
    profile = await ctx.session.get(TraineeProfile, account_id)
    if profile is None:
        raise NotFound("profile")
    edu = list(
        (
            await ctx.session.scalars(
                select(EducationRecord)
                .where(EducationRecord.account_id == account_id)
                .order_by(EducationRecord.start_date, EducationRecord.id)
            )
        ).all()
    )
    work = list(
        (
            await ctx.session.scalars(
                select(WorkRecord)
                .where(WorkRecord.account_id == account_id)
                .order_by(WorkRecord.start_date, WorkRecord.id)
            )
        ).all()
    )
    return ProfileView(profile, edu, work, completeness(profile, edu, work))


async def view(ctx: Ctx, actor: Actor) -> ProfileView:
    require_self(actor, actor.account_id)
    return await load(ctx, actor.account_id)


def _text(value: str, field: str, *, required: bool = True) -> str | None:
    return clean(value, limit=TEXT_MAX[field], field=field, required=required)


def check_typed(field: str, value: str) -> str | None:
    """A typed answer to a text field, checked at its step (before a record being added keeps
    it): normalised, or refused with the reason."""
    if field in TEXT_MAX:
        return _text(value, field, required=field != "position")
    return clean(value, limit=max(TEXT_MAX.values()), field=field, required=False)


def _touch(ctx: Ctx, p: TraineeProfile) -> None:
    p.updated_at = ctx.now()


async def _work_unit_locked(ctx: Ctx, account_id: int) -> bool:
    """After admission, own-unit and entrusted trainees change their unit only through the base."""
    held = await ctx.session.scalar(
        select(Application.id).where(
            Application.account_id == account_id,
            Application.personnel_type.in_([t.value for t in NEEDS_CURRENT_UNIT]),
            Application.status.in_(
                [
                    ApplicationStatus.ADMITTED,
                    ApplicationStatus.SENT,
                    ApplicationStatus.ACCEPTABLE,
                    ApplicationStatus.ACCEPTED,
                    ApplicationStatus.CONFIRMED,
                ]
            ),
        )
    )
    return held is not None


# --- basic and contact ----------------------------------------------------------------------


async def set_basic(ctx: Ctx, actor: Actor, field: str, value: Any) -> TraineeProfile:
    """Edit one field of the basic module; the value is checked before anything is stored."""
    require_self(actor, actor.account_id)
    p = await _profile(ctx, actor)
    if field == "gender":
        try:
            gender = Gender(value)
        except ValueError as exc:
            raise DomainError("field.choice", field=field) from exc
        from_id = gender_of(p.id_type, ctx.cipher.decrypt("id_number", p.id_number_enc))
        if from_id is not None and gender != from_id:
            raise DomainError("basic.gender_mismatch")
        p.gender = gender
    elif field == "birth_date":
        born = _date(value, field)
        from_id = birth_date_of(p.id_type, ctx.cipher.decrypt("id_number", p.id_number_enc))
        if from_id is not None and born != from_id:
            raise DomainError("basic.birth_date_mismatch")
        if not date(1920, 1, 1) <= born <= ctx.now().date():
            raise DomainError("field.date_range", field=field)
        p.birth_date = born
    elif field == "ethnicity":
        if value not in ETHNICITIES:
            raise DomainError("field.choice", field=field)
        p.ethnicity = value
    elif field == "political_status":
        if value not in POLITICAL_STATUSES:
            raise DomainError("field.choice", field=field)
        p.political_status = value
    else:
        raise DomainError("field.unknown", field=field)
    _touch(ctx, p)
    audit(ctx, actor, "profile", actor.account_id, "basic_updated", field=field)
    return p


async def set_contact(ctx: Ctx, actor: Actor, field: str, value: str) -> TraineeProfile:
    require_self(actor, actor.account_id)
    p = await _profile(ctx, actor)
    if field == "email":
        limit = column_limit(TraineeProfile, "email")
        value = clean(nfkc(value), limit=limit, field=field) or ""
        if not EMAIL.fullmatch(value) or len(value) > 254:
            raise DomainError("contact.email_invalid")
        p.email = value
    elif field == "address":
        p.address = _text(value, "address")
    elif field == "emergency_name":
        p.emergency_name = _text(value, "emergency_name")
    elif field == "emergency_phone":
        p.emergency_phone_enc = ctx.cipher.encrypt("emergency_phone", normalize_phone(value))
    else:
        raise DomainError("field.unknown", field=field)
    _touch(ctx, p)
    audit(ctx, actor, "profile", actor.account_id, "contact_updated", field=field)
    return p


async def _profile(ctx: Ctx, actor: Actor) -> TraineeProfile:
    p = await ctx.session.get(TraineeProfile, actor.account_id)
    if p is None:
        raise NotFound("profile")
    return p


def _date(value: Any, field: str) -> date:
    if isinstance(value, date):
        return value
    text = digits(value).replace("/", "-").replace(".", "-")
    m = re.fullmatch(r"(\d{4})-?(\d{1,2})-?(\d{1,2})", text)
    try:
        if not m:
            raise ValueError
        return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError as exc:
        raise DomainError("field.date_format", field=field) from exc


def parse_date(value: Any, field: str = "date") -> date:
    """Dates typed in chat: 2023-07-01, 2023/7/1, 2023.07.01 or 20230701."""
    return _date(value, field)


# --- education ------------------------------------------------------------------------------


@dataclass
class EducationInput:
    school: str
    major: str
    level: EducationLevel | str
    start_date: date | str
    end_date: date | str


def _check_education(data: EducationInput, today: date) -> dict[str, Any]:
    start, end = _date(data.start_date, "start_date"), _date(data.end_date, "end_date")
    if end <= start:
        raise DomainError("field.end_before_start")
    if start < date(1950, 1, 1) or start > today:
        raise DomainError("field.date_range", field="start_date")
    try:
        level = EducationLevel(data.level)
    except ValueError as exc:
        raise DomainError("field.choice", field="level") from exc
    return {
        "school": _text(data.school, "school"),
        "major": _text(data.major, "major"),
        "level": level,
        "start_date": start,
        "end_date": end,
    }


async def add_education(ctx: Ctx, actor: Actor, data: EducationInput) -> EducationRecord:
    require_self(actor, actor.account_id)
    rec = EducationRecord(account_id=actor.account_id, **_check_education(data, ctx.now().date()))
    ctx.session.add(rec)
    await ctx.session.flush()
    await _touch_profile(ctx, actor)
    audit(ctx, actor, "education", rec.id or 0, "added")
    return rec


async def _own_education(ctx: Ctx, actor: Actor, record_id: int) -> EducationRecord:
    require_self(actor, actor.account_id)
    rec = await ctx.session.get(EducationRecord, record_id)
    if rec is None or rec.account_id != actor.account_id:
        raise NotFound("education")
    return rec


async def edit_education(
    ctx: Ctx, actor: Actor, record_id: int, data: EducationInput
) -> EducationRecord:
    rec = await _own_education(ctx, actor, record_id)
    for key, value in _check_education(data, ctx.now().date()).items():
        setattr(rec, key, value)
    await _touch_profile(ctx, actor)
    audit(ctx, actor, "education", record_id, "edited")
    return rec


async def remove_education(ctx: Ctx, actor: Actor, record_id: int) -> None:
    rec = await _own_education(ctx, actor, record_id)
    await ctx.session.delete(rec)
    await _touch_profile(ctx, actor)
    audit(ctx, actor, "education", record_id, "removed")


EDUCATION_FLAGS = ("is_first", "is_highest", "is_bachelor")


async def set_education_flag(ctx: Ctx, actor: Actor, record_id: int, flag: str, on: bool) -> None:
    """Each flag sits on exactly one record: setting it moves it there. One record may carry
    several flags (first = highest, say)."""
    if flag not in EDUCATION_FLAGS:
        raise DomainError("field.unknown", field=flag)
    rec = await _own_education(ctx, actor, record_id)
    level = EducationLevel(rec.level)
    if (
        on
        and flag == "is_first"
        and level not in {EducationLevel.JUNIOR_COLLEGE, EducationLevel.BACHELOR}
    ):
        raise DomainError("edu.first_level")
    if on and flag == "is_bachelor" and level is not EducationLevel.BACHELOR:
        raise DomainError("edu.bachelor_level")
    if on:
        others = await ctx.session.scalars(
            select(EducationRecord).where(
                EducationRecord.account_id == actor.account_id, EducationRecord.id != record_id
            )
        )
        for other in others:
            setattr(other, flag, False)
    setattr(rec, flag, on)
    await _touch_profile(ctx, actor)
    audit(ctx, actor, "education", record_id, "flag", to_state=f"{flag}={on}")


# --- work -----------------------------------------------------------------------------------


@dataclass
class WorkInput:
    unit_name: str
    position: str | None
    start_date: date | str
    end_date: date | str | None
    is_current: bool


async def _guard_work(ctx: Ctx, actor: Actor) -> None:
    require_self(actor, actor.account_id)
    if await _work_unit_locked(ctx, actor.account_id):
        raise DomainError("work.locked_after_admission")


async def set_has_work_unit(ctx: Ctx, actor: Actor, has_unit: bool) -> None:
    await _guard_work(ctx, actor)
    p = await _profile(ctx, actor)
    p.has_work_unit = has_unit
    if not has_unit:
        # 无: listed past work stays, but none of it is the current unit any more.
        records = await ctx.session.scalars(
            select(WorkRecord).where(WorkRecord.account_id == actor.account_id)
        )
        for rec in records:
            rec.is_current = False
    _touch(ctx, p)
    audit(ctx, actor, "profile", actor.account_id, "work_unit_answer", to_state=str(has_unit))


def _check_work(data: WorkInput, today: date) -> dict[str, Any]:
    start = _date(data.start_date, "start_date")
    end = _date(data.end_date, "end_date") if data.end_date not in (None, "") else None
    if start > today:
        raise DomainError("field.date_range", field="start_date")
    if end is not None and end < start:
        raise DomainError("field.end_before_start")
    if data.is_current and end is not None and end < today:
        raise DomainError("work.current_has_ended")
    return {
        "unit_name": _text(data.unit_name, "unit_name"),
        "position": _text(data.position or "", "position", required=False),
        "start_date": start,
        "end_date": end,
        "is_current": bool(data.is_current),
    }


async def _single_current(ctx: Ctx, actor: Actor, keep_id: int) -> None:
    others = await ctx.session.scalars(
        select(WorkRecord).where(
            WorkRecord.account_id == actor.account_id,
            WorkRecord.id != keep_id,
            WorkRecord.is_current,
        )
    )
    for other in others:
        other.is_current = False


async def add_work(ctx: Ctx, actor: Actor, data: WorkInput) -> WorkRecord:
    await _guard_work(ctx, actor)
    values = _check_work(data, ctx.now().date())
    p = await _profile(ctx, actor)
    if values["is_current"] and p.has_work_unit is False:
        raise DomainError("work.current_without_unit")
    rec = WorkRecord(account_id=actor.account_id, **values)
    ctx.session.add(rec)
    await ctx.session.flush()
    if rec.is_current:
        await _single_current(ctx, actor, rec.id or 0)
    _touch(ctx, p)
    audit(ctx, actor, "work", rec.id or 0, "added")
    return rec


async def _own_work(ctx: Ctx, actor: Actor, record_id: int) -> WorkRecord:
    await _guard_work(ctx, actor)
    rec = await ctx.session.get(WorkRecord, record_id)
    if rec is None or rec.account_id != actor.account_id:
        raise NotFound("work")
    return rec


async def edit_work(ctx: Ctx, actor: Actor, record_id: int, data: WorkInput) -> WorkRecord:
    rec = await _own_work(ctx, actor, record_id)
    values = _check_work(data, ctx.now().date())
    p = await _profile(ctx, actor)
    if values["is_current"] and p.has_work_unit is False:
        raise DomainError("work.current_without_unit")
    for key, value in values.items():
        setattr(rec, key, value)
    if rec.is_current:
        await _single_current(ctx, actor, record_id)
    _touch(ctx, p)
    audit(ctx, actor, "work", record_id, "edited")
    return rec


async def remove_work(ctx: Ctx, actor: Actor, record_id: int) -> None:
    rec = await _own_work(ctx, actor, record_id)
    await ctx.session.delete(rec)
    await _touch_profile(ctx, actor)
    audit(ctx, actor, "work", record_id, "removed")


async def _touch_profile(ctx: Ctx, actor: Actor) -> None:
    p = await _profile(ctx, actor)
    _touch(ctx, p)
