"""The phone step of registration, login and recovery: Telegram's share-contact button (only the
sender's own contact counts), or a typed mobile number confirmed by an SMS code."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiogram import Bot, Router
from aiogram.filters import StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from bot import sms
from bot.callback_data import one_of
from bot.i18n import Translator
from handlers.trainee.states import CODE_STATES
from handlers.trainee.ui import button, contact_or_text, markup
from workflow import verification
from workflow.context import Ctx
from workflow.errors import DomainError
from workflow.identity import mask_phone

Back = Callable[[Message, Ctx, FSMContext, Translator], Awaitable[None]]
Done = Callable[[Message, Ctx, FSMContext, Translator, Bot, str], Awaitable[None]]


class PhoneCb(CallbackData, prefix="tph"):
    action: one_of("resend")


def phone_keyboard(i18n: Translator) -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        keyboard=[
            [KeyboardButton(text=i18n("trainee.phone.share"), request_contact=True)],
            [KeyboardButton(text=i18n("common.back")), KeyboardButton(text=i18n("common.cancel"))],
        ],
        resize_keyboard=True,
        is_persistent=True,
    )


async def ask_phone(bot: Bot, chat_id: int, i18n: Translator, prompt: str) -> None:
    await bot.send_message(chat_id, prompt, reply_markup=phone_keyboard(i18n))


def nav_choice(message: Message, i18n: Translator) -> str | None:
    """ "back" or "cancel" when the user pressed one of the reply keyboard's navigation keys."""
    if message.text == i18n("common.back"):
        return "back"
    if message.text == i18n("common.cancel"):
        return "cancel"
    return None


async def cancel_dialog(message: Message, ctx: Ctx, state: FSMContext, i18n: Translator) -> None:
    await verification.forget_code(ctx, message.from_user.id)  # type: ignore[union-attr]
    await state.clear()
    await ctx.session.commit()
    await message.answer(i18n("common.cancelled"), reply_markup=ReplyKeyboardRemove())


async def _refuse(message: Message, i18n: Translator, err: DomainError) -> None:
    text = i18n.error(err.code, err.params)
    if err.code in {"reg.code_expired", "sms.too_many_attempts"}:
        await message.answer(text, reply_markup=_resend_markup(i18n))
    else:
        await message.answer(text)


def _resend_markup(i18n: Translator) -> InlineKeyboardMarkup:
    return markup([button(i18n("trainee.phone.resend"), PhoneCb(action="resend"))])


async def _send_code(
    message_or_query: Message | CallbackQuery,
    ctx: Ctx,
    i18n: Translator,
    e164: str,
    code: str,
    previous: verification.CodeState | None,
) -> bool:
    """Commit first (the code must exist before it can be typed back), then send it. When the
    provider fails, the code is withdrawn and the user told to retry later or share the contact;
    returns whether it went out."""
    user_id = message_or_query.from_user.id  # type: ignore[union-attr]
    await ctx.session.commit()
    try:
        await sms.provider().send_code(e164, code)
    except sms.SmsSendError:
        await verification.withdraw_code(ctx, user_id, e164, code, previous)
        await ctx.session.commit()
        failed = i18n(
            "sms.failed",
            phone=mask_phone(e164),
            seconds=int(verification.RESEND_AFTER.total_seconds()),
        )
        if isinstance(message_or_query, CallbackQuery):
            await message_or_query.answer(i18n("sms.failed_alert"))
            await message_or_query.bot.send_message(  # type: ignore[union-attr]
                user_id, failed, reply_markup=phone_keyboard(i18n)
            )
        else:
            await message_or_query.answer(failed, reply_markup=phone_keyboard(i18n))
        return False
    text = i18n("trainee.phone.code_sent", phone=mask_phone(e164))
    if isinstance(message_or_query, CallbackQuery):
        await message_or_query.answer(i18n("trainee.phone.resent"))
        await message_or_query.bot.send_message(  # type: ignore[union-attr]
            user_id, text, reply_markup=_resend_markup(i18n)
        )
    else:
        await message_or_query.answer(text, reply_markup=_resend_markup(i18n))
    return True


async def take_phone(
    message: Message, ctx: Ctx, i18n: Translator, state: FSMContext, code_state: State
) -> str | None:
    """The answer to "your mobile number?". Returns the number when it is proven at once (the
    sender's own contact); None when a code went out (the dialog now waits in `code_state`) or
    the answer was refused and is asked again."""
    sender = message.from_user.id  # type: ignore[union-attr]
    try:
        if message.contact is not None:
            return verification.own_contact(
                message.contact.user_id, sender, message.contact.phone_number
            )
        previous = await verification.code_state(ctx, sender)
        e164, code = await verification.issue_code(ctx, sender, message.text or "")
    except DomainError as err:
        await _refuse(message, i18n, err)
        return None
    # The dialog waits for the code only once it went out; else the number is asked again.
    if await _send_code(message, ctx, i18n, e164, code, previous):
        await state.set_state(code_state)
    return None


async def take_code(message: Message, ctx: Ctx, i18n: Translator) -> str | None:
    """The code typed back (or, still, the own contact shared): the verified number, or None
    after saying what was wrong. A wrong code counts: the caller's transaction keeps the count."""
    sender = message.from_user.id  # type: ignore[union-attr]
    try:
        if message.contact is not None:
            return verification.own_contact(
                message.contact.user_id, sender, message.contact.phone_number
            )
        return await verification.check_code(ctx, sender, message.text or "")
    except DomainError as err:
        await _refuse(message, i18n, err)
        return None


def add_steps(router: Router, phone: State, code: State, *, back: Back, done: Done) -> None:
    """The phone and code steps of a dialog on `router`: the reply keyboard's cancel ends the
    dialog, its back calls `back` (in the phone or the code state), and the verified number goes
    to `done`."""

    async def navigated(message: Message, ctx: Ctx, state: FSMContext, i18n: Translator) -> bool:
        choice = nav_choice(message, i18n)
        if choice == "cancel":
            await cancel_dialog(message, ctx, state, i18n)
        elif choice == "back":
            await back(message, ctx, state, i18n)
        return choice is not None

    @router.message(phone, contact_or_text)
    async def phone_answer(
        message: Message, ctx: Ctx, state: FSMContext, i18n: Translator, bot: Bot
    ) -> None:
        if await navigated(message, ctx, state, i18n):
            return
        e164 = await take_phone(message, ctx, i18n, state, code)
        if e164 is not None:
            await done(message, ctx, state, i18n, bot, e164)

    @router.message(code, contact_or_text)
    async def code_answer(
        message: Message, ctx: Ctx, state: FSMContext, i18n: Translator, bot: Bot
    ) -> None:
        if await navigated(message, ctx, state, i18n):
            return
        e164 = await take_code(message, ctx, i18n)
        if e164 is not None:
            await done(message, ctx, state, i18n, bot, e164)


def build_router() -> Router:
    router = Router(name="trainee-phone")

    @router.callback_query(PhoneCb.filter(), StateFilter(*CODE_STATES))
    async def resend(query: CallbackQuery, ctx: Ctx, i18n: Translator) -> None:
        phone = await verification.pending_phone(ctx, query.from_user.id)
        if phone is None:
            raise DomainError("sms.no_code")
        previous = await verification.code_state(ctx, query.from_user.id)
        e164, code = await verification.issue_code(ctx, query.from_user.id, phone)
        await _send_code(query, ctx, i18n, e164, code, previous)

    return router
