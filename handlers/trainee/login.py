"""/login: bind an existing account to this chat with login name and password, then the phone
the account verified (its own contact shared, or a typed number confirmed by an SMS code).

Failed passwords are counted per account and per chat by the workflow; the count is kept even
though the attempt is refused (the refusal is caught here, so the transaction commits).
"""

from __future__ import annotations

from datetime import timedelta

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message, ReplyKeyboardRemove

from bot.i18n import Translator
from bot.keyboards import nav_row
from bot.menus import set_chat_menu
from bot.services import Services
from handlers.common import StartAction
from handlers.trainee import phone as phone_step
from handlers.trainee.cb import ProfileCb
from handlers.trainee.states import Login
from handlers.trainee.ui import button, delete_quietly, markup, not_command, show
from storage.models import Account
from workflow import accounts
from workflow.context import Ctx
from workflow.enums import Role
from workflow.errors import DomainError


def build_router() -> Router:
    router = Router(name="trainee-login")

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
        await state.set_state(Login.login_name)
        await show(event, i18n("trainee.login.login_name"), markup(nav_row(i18n)))

    @router.message(Command("login"))
    async def login_command(
        message: Message, state: FSMContext, i18n: Translator, account: Account | None
    ) -> None:
        await begin(message, state, i18n, account)

    @router.callback_query(StartAction.filter(F.action == "login"))
    async def login_button(
        query: CallbackQuery, state: FSMContext, i18n: Translator, account: Account | None
    ) -> None:
        await query.answer()
        await begin(query, state, i18n, account)

    @router.message(Login.login_name, not_command)
    async def login_name(message: Message, state: FSMContext, i18n: Translator) -> None:
        await state.update_data(login_name=(message.text or "").strip().lower())
        await state.set_state(Login.password)
        await message.answer(i18n("trainee.login.password"), reply_markup=markup(nav_row(i18n)))

    @router.message(Login.password, not_command)
    async def password(
        message: Message,
        ctx: Ctx,
        state: FSMContext,
        i18n: Translator,
        services: Services,
        bot: Bot,
    ) -> None:
        await delete_quietly(message)
        data = await state.get_data()
        settings = services.settings
        try:
            account = await accounts.authenticate(
                ctx,
                data.get("login_name", ""),
                message.text or "",
                message.from_user.id,  # type: ignore[union-attr]
                max_failures=settings.login_max_failures,
                window=timedelta(minutes=settings.login_window_minutes),
            )
        except DomainError as err:
            # Not re-raised: the failure just counted must be committed with this update.
            hint = "trainee.login.retry" if err.code == "login.wrong" else "trainee.login.later"
            await ctx.session.commit()
            await message.answer(i18n.error(err.code, err.params) + "\n" + i18n(hint))
            return
        await state.update_data(account_id=account.id)
        await state.set_state(Login.phone)
        await ctx.session.commit()
        await phone_step.ask_phone(bot, message.chat.id, i18n, i18n("trainee.login.phone"))

    async def back(message: Message, ctx: Ctx, state: FSMContext, i18n: Translator) -> None:
        await state.set_state(Login.login_name)
        await message.answer(i18n("trainee.login.restart"), reply_markup=ReplyKeyboardRemove())
        await message.answer(i18n("trainee.login.login_name"), reply_markup=markup(nav_row(i18n)))

    async def finish(
        message: Message, ctx: Ctx, state: FSMContext, i18n: Translator, bot: Bot, e164: str
    ) -> None:
        data = await state.get_data()
        try:
            account = await accounts.complete_login(
                ctx,
                int(data["account_id"]),
                e164,
                message.from_user.id,  # type: ignore[union-attr]
            )
        except DomainError as err:
            await state.set_state(Login.phone)
            await message.answer(
                i18n.error(err.code, err.params), reply_markup=phone_step.phone_keyboard(i18n)
            )
            return
        await state.clear()
        await ctx.session.commit()
        await set_chat_menu(bot, message.chat.id, Role.TRAINEE, i18n)
        await message.answer(
            i18n("trainee.login.done", name=account.display_name),
            reply_markup=ReplyKeyboardRemove(),
        )
        await message.answer(
            i18n("trainee.login.next"),
            reply_markup=markup([button(i18n("trainee.reg.to_profile"), ProfileCb(a="menu"))]),
        )

    phone_step.add_steps(router, Login.phone, Login.code, back=back, done=finish)
    return router
