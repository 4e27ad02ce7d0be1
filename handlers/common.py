"""/start, /help, /language and /cancel: what every user can do in every state."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message, ReplyKeyboardRemove
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.callback_data import one_of
from bot.chat_scope import PRIVATE_START
from bot.i18n import LOCALES, Translator
from bot.menus import set_chat_menu
from storage.models import Account, TelegramUser
from workflow import accounts
from workflow.actor import Actor
from workflow.context import Ctx
from workflow.enums import Role


class StartAction(CallbackData, prefix="start"):
    """Buttons of the welcome message; the registration and login dialogs handle them."""

    action: one_of("register", "login")


class LanguageChoice(CallbackData, prefix="lang"):
    locale: one_of(*LOCALES)


LANGUAGE_NAMES = {"zh-CN": "简体中文", "en": "English"}


def help_key(account: Account | None) -> str:
    if account is None:
        return "help.guest"
    return "help.trainee" if account.role == Role.TRAINEE else "help.staff"


async def lead_on(
    message: Message,
    ctx: Ctx,
    account: Account,
    actor: Actor,
    i18n: Translator,
    state: FSMContext,
    bot: Bot,
) -> None:
    """A returning user's /start: the trainee's next step, the staff's work menu with counts."""
    from handlers.staff.common import make_env
    from handlers.staff.menu import show_menu
    from handlers.trainee import next_step

    if account.role == Role.TRAINEE:
        text, kb = await next_step.screen(ctx, actor, account, i18n)
        await message.answer(text, reply_markup=kb)
        return
    env = await make_env(ctx, actor, i18n, state, bot)
    await show_menu(env, message, greeting=i18n("start.hello", name=account.display_name))


def build_router() -> Router:
    router = Router(name="common")

    @router.message(CommandStart(deep_link=True, magic=F.args != PRIVATE_START))
    async def start_with_token(
        message: Message, command: CommandObject, ctx: Ctx, i18n: Translator, bot: Bot
    ) -> None:
        """An invitation link (`/start <token>`) binds this chat to a staff account."""
        account = await accounts.redeem_invitation(ctx, command.args or "", message.from_user.id)
        await ctx.session.commit()
        await set_chat_menu(bot, message.chat.id, Role(account.role), i18n)
        await message.answer(
            i18n("staff.bound", name=account.display_name, role=i18n.label("role", account.role)),
            reply_markup=ReplyKeyboardRemove(),
        )

    @router.message(CommandStart())
    async def start(
        message: Message,
        ctx: Ctx,
        account: Account | None,
        actor: Actor | None,
        i18n: Translator,
        state: FSMContext,
        bot: Bot,
    ) -> None:
        if account is not None and actor is not None:
            await lead_on(message, ctx, account, actor, i18n, state, bot)
            return
        kb = InlineKeyboardBuilder()
        kb.button(text=i18n("start.register"), callback_data=StartAction(action="register"))
        kb.button(text=i18n("start.login"), callback_data=StartAction(action="login"))
        kb.adjust(1)
        await message.answer(i18n("start.welcome"), reply_markup=kb.as_markup())

    @router.message(Command("help"))
    async def help_(message: Message, account: Account | None, i18n: Translator) -> None:
        await message.answer(i18n(help_key(account)))

    @router.message(Command("language"))
    async def language(message: Message, i18n: Translator) -> None:
        kb = InlineKeyboardBuilder()
        for locale in LOCALES:
            kb.button(text=LANGUAGE_NAMES[locale], callback_data=LanguageChoice(locale=locale))
        await message.answer(i18n("language.choose"), reply_markup=kb.as_markup())

    @router.callback_query(LanguageChoice.filter())
    async def language_chosen(
        query: CallbackQuery,
        callback_data: LanguageChoice,
        ctx: Ctx,
        tg_user: TelegramUser,
        account: Account | None,
        bot: Bot,
    ) -> None:
        if callback_data.locale not in LOCALES:
            await query.answer()
            return
        tg_user.locale = callback_data.locale
        await ctx.session.commit()
        i18n = Translator(callback_data.locale)
        await query.answer()
        if query.message is not None:
            await query.message.edit_text(i18n("language.set"))
        await set_chat_menu(bot, query.from_user.id, Role(account.role) if account else None, i18n)

    @router.message(Command("cancel"))
    async def cancel(message: Message, state: FSMContext, i18n: Translator) -> None:
        if await state.get_state() is None:
            await message.answer(
                i18n("common.nothing_to_cancel"), reply_markup=ReplyKeyboardRemove()
            )
            return
        await state.clear()
        await message.answer(i18n("common.cancelled"), reply_markup=ReplyKeyboardRemove())

    @router.callback_query(F.data == "cancel")
    async def cancel_button(query: CallbackQuery, state: FSMContext, i18n: Translator) -> None:
        await state.clear()
        await query.answer()
        if query.message is not None:
            await query.message.edit_text(i18n("common.cancelled"))

    return router


def build_fallback_router() -> Router:
    """Last in line: anything no feature understood gets a hint instead of silence."""
    router = Router(name="fallback")

    @router.message()
    async def unknown(message: Message, i18n: Translator) -> None:
        await message.answer(i18n("common.unknown_command"))

    @router.callback_query()
    async def stale(query: CallbackQuery, i18n: Translator) -> None:
        # Also every press whose data does not parse (bot/callback_data.py): out of range,
        # tampered or garbage. A toast; nothing is read or changed.
        await query.answer(i18n("error.stale"))

    return router
