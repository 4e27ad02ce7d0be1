"""学员注册 (the guide's §一): program, name, ID type and number, login name, the phone, the
password twice; then the chat is bound to the new account.

Also 忘记密码: an ID number that is already registered can recover its account by the verified
phone, and then set a new password. Passwords: each message is deleted as soon as it is read; the
first one waits for the second only as an Argon2id hash, never as text.
"""

from __future__ import annotations

from typing import Any

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, ReplyKeyboardRemove

from bot.i18n import Translator
from bot.keyboards import nav_row
from bot.menus import set_chat_menu
from handlers.common import StartAction
from handlers.trainee import phone as phone_step
from handlers.trainee.cb import ProfileCb, RegCb
from handlers.trainee.states import NewPassword, Recover, Reg
from handlers.trainee.ui import (
    button,
    delete_quietly,
    guest_only,
    markup,
    not_command,
    seal,
    show,
    trainee_only,
    unseal,
)
from storage.models import Account
from workflow import accounts, verification
from workflow.actor import Actor
from workflow.context import Ctx
from workflow.enums import IdType, Program, Role
from workflow.errors import DomainError
from workflow.identity import mask_id, mask_phone, normalize_id

# Where a refusal of the final registration sends the dialog back to.
_STEP_OF_ERROR = {
    "reg.login_name_taken": Reg.login_name,
    "reg.id_registered": Reg.id_number,
    "reg.phone_registered": Reg.phone,
}


def _back(step: str) -> RegCb:
    return RegCb(action="back", v=step)


def program_markup(i18n: Translator) -> InlineKeyboardMarkup:
    rows = [
        [button(i18n.label("program", p.value), RegCb(action="program", v=p.value))]
        for p in Program
    ]
    return markup(*rows, nav_row(i18n))


def id_type_markup(i18n: Translator) -> InlineKeyboardMarkup:
    types = [
        button(i18n.label("id_type", t.value), RegCb(action="id_type", v=t.value)) for t in IdType
    ]
    return markup(
        *[types[i : i + 2] for i in range(0, len(types), 2)], nav_row(i18n, _back("name"))
    )


def profile_button(i18n: Translator) -> InlineKeyboardMarkup:
    return markup([button(i18n("trainee.reg.to_profile"), ProfileCb(a="menu"))])


def build_router() -> Router:
    router = Router(name="trainee-registration")

    # --- entry -------------------------------------------------------------------------------

    async def begin(
        event: Message | CallbackQuery, state: FSMContext, i18n: Translator, account: Account | None
    ) -> None:
        if account is not None:
            await show(
                event,
                i18n(
                    "trainee.reg.already",
                    name=account.display_name,
                    login=account.login_name or "—",
                ),
            )
            return
        await state.clear()
        await state.set_state(Reg.program)
        await show(event, i18n("trainee.reg.program"), program_markup(i18n))

    @router.message(Command("register"))
    async def register_command(
        message: Message, state: FSMContext, i18n: Translator, account: Account | None
    ) -> None:
        await begin(message, state, i18n, account)

    @router.callback_query(StartAction.filter(F.action == "register"))
    async def register_button(
        query: CallbackQuery, state: FSMContext, i18n: Translator, account: Account | None
    ) -> None:
        await query.answer()
        await begin(query, state, i18n, account)

    @router.message(Command("profile", "apply", "status", "years", "accept", "decline"), guest_only)
    async def guest_command(message: Message, i18n: Translator) -> None:
        kb = markup(
            [button(i18n("start.register"), StartAction(action="register"))],
            [button(i18n("start.login"), StartAction(action="login"))],
        )
        await message.answer(i18n("trainee.reg.need_account"), reply_markup=kb)

    # --- back buttons ------------------------------------------------------------------------

    @router.callback_query(RegCb.filter(F.action == "back"), StateFilter(Reg))
    async def back(
        query: CallbackQuery, callback_data: RegCb, state: FSMContext, i18n: Translator
    ) -> None:
        await query.answer()
        data = await state.get_data()
        step = callback_data.v
        if step == "program":
            await state.set_state(Reg.program)
            await show(query, i18n("trainee.reg.program"), program_markup(i18n))
        elif step == "name":
            await state.set_state(Reg.name)
            await show(query, _name_prompt(i18n, data), markup(nav_row(i18n, _back("program"))))
        elif step == "id_type":
            await state.set_state(Reg.id_type)
            await show(query, i18n("trainee.reg.id_type"), id_type_markup(i18n))
        elif step == "id_number":
            await state.set_state(Reg.id_number)
            await show(query, _id_prompt(i18n, data), markup(nav_row(i18n, _back("id_type"))))
        elif step == "login_name":
            await state.set_state(Reg.login_name)
            await show(
                query, i18n("trainee.reg.login_name"), markup(nav_row(i18n, _back("id_number")))
            )
        elif step == "phone":
            await state.set_state(Reg.phone)
            await phone_step.ask_phone(
                query.bot, query.from_user.id, i18n, i18n("trainee.reg.phone")
            )  # type: ignore[arg-type]

    # --- program, name, ID -------------------------------------------------------------------

    @router.callback_query(RegCb.filter(F.action == "program"), StateFilter(Reg))
    async def program(
        query: CallbackQuery, callback_data: RegCb, state: FSMContext, i18n: Translator
    ) -> None:
        if callback_data.v not in {p.value for p in Program}:
            await query.answer(i18n("error.stale"), show_alert=True)
            return
        await state.update_data(program=callback_data.v)
        await state.set_state(Reg.name)
        await query.answer()
        data = await state.get_data()
        await show(query, _name_prompt(i18n, data), markup(nav_row(i18n, _back("program"))))

    @router.message(Reg.name, not_command)
    async def name(message: Message, state: FSMContext, i18n: Translator) -> None:
        try:
            value = accounts.check_name(message.text or "")
        except DomainError as err:
            await message.answer(i18n.error(err.code, err.params))
            return
        await state.update_data(name=value)
        await state.set_state(Reg.id_type)
        await message.answer(i18n("trainee.reg.id_type"), reply_markup=id_type_markup(i18n))

    @router.callback_query(RegCb.filter(F.action == "id_type"), StateFilter(Reg))
    async def id_type(
        query: CallbackQuery, callback_data: RegCb, state: FSMContext, i18n: Translator
    ) -> None:
        if callback_data.v not in {t.value for t in IdType}:
            await query.answer(i18n("error.stale"), show_alert=True)
            return
        await state.update_data(id_type=callback_data.v)
        await state.set_state(Reg.id_number)
        await query.answer()
        data = await state.get_data()
        await show(query, _id_prompt(i18n, data), markup(nav_row(i18n, _back("id_type"))))

    @router.message(Reg.id_number, not_command)
    async def id_number(message: Message, ctx: Ctx, state: FSMContext, i18n: Translator) -> None:
        data = await state.get_data()
        try:
            number = await accounts.check_identity(ctx, data["id_type"], message.text or "")
        except DomainError as err:
            if err.code != "reg.id_registered":
                await message.answer(i18n.error(err.code, err.params))
                return
            # The way back to that account: log in, or recover it by the verified phone.
            await state.update_data(id_enc=seal(ctx, "id_number", normalize_id(message.text or "")))
            kb = markup(
                [button(i18n("start.login"), StartAction(action="login"))],
                [button(i18n("trainee.reg.recover"), RegCb(action="recover"))],
                nav_row(i18n),
            )
            await message.answer(i18n.error(err.code, err.params), reply_markup=kb)
            return
        await state.update_data(id_enc=seal(ctx, "id_number", number))
        await state.set_state(Reg.login_name)
        await message.answer(
            i18n("trainee.reg.id_ok", number=mask_id(number))
            + "\n\n"
            + i18n("trainee.reg.login_name"),
            reply_markup=markup(nav_row(i18n, _back("id_number"))),
        )

    # --- login name and phone ----------------------------------------------------------------

    @router.message(Reg.login_name, not_command)
    async def login_name(
        message: Message, ctx: Ctx, state: FSMContext, i18n: Translator, bot: Bot
    ) -> None:
        try:
            value = await accounts.login_name_free(ctx, message.text or "")
        except DomainError as err:
            await message.answer(i18n.error(err.code, err.params))
            return
        await state.update_data(login_name=value)
        await state.set_state(Reg.phone)
        await phone_step.ask_phone(bot, message.chat.id, i18n, i18n("trainee.reg.phone"))

    async def phone_back(message: Message, ctx: Ctx, state: FSMContext, i18n: Translator) -> None:
        if await state.get_state() == Reg.code:  # back from the code: the number again
            await state.set_state(Reg.phone)
            await message.answer(
                i18n("trainee.reg.phone"), reply_markup=phone_step.phone_keyboard(i18n)
            )
            return
        await state.set_state(Reg.login_name)
        await message.answer(
            i18n("trainee.reg.back_to_login_name"), reply_markup=ReplyKeyboardRemove()
        )
        await message.answer(
            i18n("trainee.reg.login_name"),
            reply_markup=markup(nav_row(i18n, _back("id_number"))),
        )

    async def phone_proven(
        message: Message, ctx: Ctx, state: FSMContext, i18n: Translator, bot: Bot, e164: str
    ) -> None:
        try:
            await accounts.phone_free(ctx, e164)
        except DomainError as err:
            await state.set_state(Reg.phone)
            await message.answer(
                i18n.error(err.code, err.params), reply_markup=phone_step.phone_keyboard(i18n)
            )
            return
        await state.update_data(phone_enc=seal(ctx, "phone", e164))
        await state.set_state(Reg.password)
        await message.answer(
            i18n("trainee.reg.phone_ok", phone=mask_phone(e164)), reply_markup=ReplyKeyboardRemove()
        )
        await message.answer(
            _password_prompt(i18n), reply_markup=markup(nav_row(i18n, _back("phone")))
        )

    phone_step.add_steps(router, Reg.phone, Reg.code, back=phone_back, done=phone_proven)

    # --- the password, twice -----------------------------------------------------------------

    @router.message(Reg.password, not_command)
    async def password(message: Message, state: FSMContext, i18n: Translator) -> None:
        await delete_quietly(message)
        data = await state.get_data()
        try:
            pending = await verification.pending_password(
                message.text or "", data.get("login_name")
            )
        except DomainError as err:
            await message.answer(i18n.error(err.code, err.params) + "\n\n" + _password_prompt(i18n))
            return
        await state.update_data(pw_hash=pending)
        await state.set_state(Reg.confirm)
        await message.answer(
            i18n("trainee.reg.password_again"), reply_markup=markup(nav_row(i18n, _back("phone")))
        )

    @router.message(Reg.confirm, not_command)
    async def confirm(
        message: Message, ctx: Ctx, state: FSMContext, i18n: Translator, bot: Bot
    ) -> None:
        await delete_quietly(message)
        data = await state.get_data()
        try:
            await verification.confirm_password(data.get("pw_hash"), message.text or "")
        except DomainError as err:
            await state.update_data(pw_hash=None)
            await state.set_state(Reg.password)
            await message.answer(i18n.error(err.code, err.params) + "\n\n" + _password_prompt(i18n))
            return
        registration = accounts.Registration(
            program=Program(data["program"]),
            name=data["name"],
            id_type=IdType(data["id_type"]),
            id_number=unseal(ctx, "id_number", data["id_enc"]),
            login_name=data["login_name"],
            password=message.text or "",
            phone=unseal(ctx, "phone", data["phone_enc"]),
        )
        try:
            await accounts.register_trainee(ctx, registration, message.from_user.id)  # type: ignore[union-attr]
        except DomainError as err:
            await ctx.session.rollback()
            step = _STEP_OF_ERROR.get(err.code, Reg.password)
            await state.update_data(pw_hash=None)
            await state.set_state(step)
            await message.answer(i18n.error(err.code, err.params))
            await _ask_again(message, i18n, step)
            return
        await state.clear()
        await verification.forget_code(ctx, message.from_user.id)  # type: ignore[union-attr]
        await ctx.session.commit()
        await set_chat_menu(bot, message.chat.id, Role.TRAINEE, i18n)
        await message.answer(
            i18n("trainee.reg.done", name=registration.name, login=registration.login_name),
            reply_markup=profile_button(i18n),
        )

    # --- recovery by the verified phone (忘记密码) -----------------------------------------

    @router.callback_query(RegCb.filter(F.action == "recover"), StateFilter(Reg.id_number))
    async def recover(query: CallbackQuery, state: FSMContext, i18n: Translator, bot: Bot) -> None:
        data = await state.get_data()
        await query.answer()
        if not data.get("id_enc"):
            await show(query, _id_prompt(i18n, data), markup(nav_row(i18n, _back("id_type"))))
            return
        await state.set_state(Recover.phone)
        await phone_step.ask_phone(bot, query.from_user.id, i18n, i18n("trainee.recover.phone"))

    async def recover_back(message: Message, ctx: Ctx, state: FSMContext, i18n: Translator) -> None:
        await state.set_state(Reg.id_number)
        data = await state.get_data()
        await message.answer(_id_prompt(i18n, data), reply_markup=ReplyKeyboardRemove())

    async def recovered(
        message: Message, ctx: Ctx, state: FSMContext, i18n: Translator, bot: Bot, e164: str
    ) -> None:
        data = await state.get_data()
        number = unseal(ctx, "id_number", data["id_enc"])
        try:
            account = await accounts.recover_by_phone(
                ctx,
                data["id_type"],
                number,
                e164,
                message.from_user.id,  # type: ignore[union-attr]
            )
        except DomainError as err:
            await state.set_state(Recover.phone)
            await message.answer(
                i18n.error(err.code, err.params), reply_markup=phone_step.phone_keyboard(i18n)
            )
            return
        await state.clear()
        await ctx.session.commit()
        await set_chat_menu(bot, message.chat.id, Role.TRAINEE, i18n)
        await message.answer(
            i18n(
                "trainee.recover.done", name=account.display_name, login=account.login_name or "—"
            ),
            reply_markup=ReplyKeyboardRemove(),
        )
        await message.answer(
            i18n("trainee.recover.new_password_offer"),
            reply_markup=markup(
                [button(i18n("trainee.recover.new_password"), RegCb(action="newpw"))],
                [button(i18n("trainee.reg.to_profile"), ProfileCb(a="menu"))],
            ),
        )

    phone_step.add_steps(router, Recover.phone, Recover.code, back=recover_back, done=recovered)

    # --- a new password (after recovery) -----------------------------------------------------

    @router.callback_query(RegCb.filter(F.action == "newpw"), trainee_only)
    async def new_password(query: CallbackQuery, state: FSMContext, i18n: Translator) -> None:
        await query.answer()
        await state.clear()
        await state.set_state(NewPassword.password)
        await show(query, _password_prompt(i18n), markup(nav_row(i18n)))

    @router.message(NewPassword.password, not_command, trainee_only)
    async def new_password_first(
        message: Message, state: FSMContext, i18n: Translator, account: Account
    ) -> None:
        await delete_quietly(message)
        try:
            pending = await verification.pending_password(message.text or "", account.login_name)
        except DomainError as err:
            await message.answer(i18n.error(err.code, err.params) + "\n\n" + _password_prompt(i18n))
            return
        await state.update_data(pw_hash=pending)
        await state.set_state(NewPassword.confirm)
        await message.answer(i18n("trainee.reg.password_again"), reply_markup=markup(nav_row(i18n)))

    @router.message(NewPassword.confirm, not_command, trainee_only)
    async def new_password_second(
        message: Message, ctx: Ctx, state: FSMContext, i18n: Translator, actor: Actor
    ) -> None:
        await delete_quietly(message)
        data = await state.get_data()
        try:
            await verification.confirm_password(data.get("pw_hash"), message.text or "")
        except DomainError as err:
            await state.set_data({})
            await state.set_state(NewPassword.password)
            await message.answer(i18n.error(err.code, err.params) + "\n\n" + _password_prompt(i18n))
            return
        await accounts.change_password(ctx, actor, message.text or "")
        await state.clear()
        await ctx.session.commit()
        await message.answer(i18n("trainee.recover.password_changed"))

    return router


def _name_prompt(i18n: Translator, data: dict[str, Any]) -> str:
    return i18n("trainee.reg.name", program=i18n.label("program", data.get("program", "")))


def _id_prompt(i18n: Translator, data: dict[str, Any]) -> str:
    return i18n("trainee.reg.id_number", id_type=i18n.label("id_type", data.get("id_type", "")))


def _password_prompt(i18n: Translator) -> str:
    return i18n("trainee.reg.password", min=accounts.PASSWORD_MIN, max=accounts.PASSWORD_MAX)


async def _ask_again(message: Message, i18n: Translator, step: Any) -> None:
    """After a late refusal (someone took the login name meanwhile, say): ask that step again."""
    if step is Reg.phone:
        await message.answer(
            i18n("trainee.reg.phone"), reply_markup=phone_step.phone_keyboard(i18n)
        )
    elif step is Reg.login_name:
        await message.answer(i18n("trainee.reg.login_name"))
    elif step is Reg.id_number:
        await message.answer(i18n("trainee.reg.id_again"))
    else:
        await message.answer(_password_prompt(i18n))
