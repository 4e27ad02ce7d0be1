"""Callback data of the trainee's buttons, one prefix per dialog. Every action they carry is
checked again by the workflow when pressed (an old or forged button meets the same rules)."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData


class RegCb(CallbackData, prefix="treg"):
    """Registration and recovery: program, id_type, back (v = the step), recover, newpw."""

    action: str
    v: str = ""


class ProfileCb(CallbackData, prefix="tpf"):
    """a: menu | fix | mod | edit | set | rec | flag | del | del_yes | add | cur | page;
    m: module; f: field or flag; r: record id; v: value; p: page."""

    a: str
    m: str = ""
    f: str = ""
    r: int = 0
    v: str = ""
    p: int = 0


class ApplyCb(CallbackData, prefix="tap"):
    """a: the wizard action; app: the application; v: the value; p: page of a list."""

    a: str
    app: int = 0
    v: str = ""
    p: int = 0


class StatusCb(CallbackData, prefix="tst"):
    """a: show | pdf; app: the application (0: the card of all of them)."""

    a: str
    app: int = 0


class YearsCb(CallbackData, prefix="tyr"):
    """a: show | set | years | end | red | up | submit; v: value; r: reduction id."""

    a: str
    v: str = ""
    r: int = 0
