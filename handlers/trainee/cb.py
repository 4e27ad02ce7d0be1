"""Callback data of the trainee's buttons, one prefix per dialog. Every action they carry is
checked again by the workflow when pressed (an old or forged button meets the same rules)."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData

from bot.callback_data import Id, Page, Word, one_of
from workflow.profile import EDUCATION_FLAGS

# The fields of the four profile modules, as their buttons name them.
BASIC_FIELDS = ("gender", "birth_date", "ethnicity", "political_status")
CONTACT_FIELDS = ("email", "address", "emergency_name", "emergency_phone")
EDU_FIELDS = ("school", "major", "level", "start_date", "end_date")
WORK_FIELDS = ("unit_name", "position", "start_date", "end_date", "is_current")
PROFILE_FIELDS = (
    "",
    *BASIC_FIELDS,
    *CONTACT_FIELDS,
    *EDU_FIELDS,
    *WORK_FIELDS,
    *EDUCATION_FLAGS,
    "has_unit",
)


class RegCb(CallbackData, prefix="treg"):
    """Registration and recovery: program, id_type, back (v = the step), recover, newpw."""

    action: one_of("program", "id_type", "back", "recover", "newpw")
    v: Word = ""


class ProfileCb(CallbackData, prefix="tpf"):
    """a: menu | fix | mod | edit | set | rec | flag | del | del_yes | add | cur | page;
    m: module; f: field or flag; r: record id; v: value; p: page."""

    a: Word
    m: one_of("", "basic", "contact", "education", "work") = ""
    f: one_of(*PROFILE_FIELDS) = ""
    r: Id = 0
    v: Word = ""
    p: Page = 0


class ApplyCb(CallbackData, prefix="tap"):
    """a: the wizard action; app: the application; v: the value; p: page of a list."""

    a: Word
    app: Id = 0
    v: Word = ""
    p: Page = 0


class StatusCb(CallbackData, prefix="tst"):
    """a: show | pdf; app: the application (0: the card of all of them)."""

    a: one_of("show", "pdf")
    app: Id = 0


class YearsCb(CallbackData, prefix="tyr"):
    """a: show | set | years | end | red | up | submit; v: value; r: reduction id."""

    a: one_of("show", "set", "years", "end", "red", "up", "submit")
    v: Word = ""
    r: Id = 0
