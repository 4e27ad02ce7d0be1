"""Dialog states of the trainee's dialogs (kept in the database, so they survive a restart)."""

from __future__ import annotations

from aiogram.fsm.state import State, StatesGroup


class Reg(StatesGroup):
    program = State()
    name = State()
    id_type = State()
    id_number = State()
    login_name = State()
    phone = State()
    code = State()
    password = State()
    confirm = State()


class Recover(StatesGroup):
    phone = State()
    code = State()


class NewPassword(StatesGroup):
    password = State()
    confirm = State()


class Login(StatesGroup):
    login_name = State()
    password = State()
    phone = State()
    code = State()


class ProfileInput(StatesGroup):
    """One typed field of a profile module, or of an education or work record."""

    value = State()


class ApplyInput(StatesGroup):
    qualification_no = State()


class YearsInput(StatesGroup):
    start = State()
    end = State()
    upload = State()


# The states that wait for a verification code (the resend button works in them).
CODE_STATES = (Reg.code, Recover.code, Login.code)
PHONE_STATES = (Reg.phone, Recover.phone, Login.phone)
