"""/reminders: which non-critical reminders a user receives. Deadline reminders of the user's own
obligations are listed too, and cannot be turned off (workflow.reminders refuses)."""

from __future__ import annotations

from aiogram import Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.callback_data import Word
from bot.i18n import Translator
from bot.keyboards import with_nav
from bot.services import Services
from storage.models import Account
from workflow import reminders as R
from workflow.actor import Actor
from workflow.context import Ctx
from workflow.notices import notify


class ReminderToggle(CallbackData, prefix="rem"):
    """Turn `kind` off (`mute`) or on. Carries the wanted state, so a repeated press is harmless."""

    kind: Word
    mute: bool


class ReminderTest(CallbackData, prefix="remtest"):
    pass


def _name(i18n: Translator, kind: str) -> str:
    return i18n(f"reminder.kind.{kind}")


async def menu(
    ctx: Ctx, account: Account, i18n: Translator, services: Services
) -> tuple[str, InlineKeyboardMarkup]:
    settings = services.settings
    muted = await R.muted_kinds(ctx, account.id)  # type: ignore[arg-type]
    mutable = R.mutable_kinds(account.role)
    critical = R.critical_kinds(account.role)
    lines = [
        i18n(
            "reminder.menu.title",
            quiet_start=settings.quiet_hours_start.strftime("%H:%M"),
            quiet_end=settings.quiet_hours_end.strftime("%H:%M"),
        ),
        "",
    ]
    kb = InlineKeyboardBuilder()
    if mutable:
        lines.append(i18n("reminder.menu.mutable"))
        for kind in mutable:
            off = kind in muted
            state = "reminder.menu.off" if off else "reminder.menu.on"
            lines.append(i18n(state, name=_name(i18n, kind)))
            kb.button(
                text=i18n(state, name=_name(i18n, kind)),
                callback_data=ReminderToggle(kind=kind, mute=not off),
            )
        lines += ["", i18n("reminder.menu.hint")]
    else:
        lines.append(i18n("reminder.menu.none_mutable"))
    if critical:
        lines += ["", i18n("reminder.menu.critical")]
        lines += [f"• {_name(i18n, kind)}" for kind in critical]
    kb.button(text=i18n("reminder.menu.test"), callback_data=ReminderTest())
    kb.adjust(1)
    return "\n".join(lines), with_nav(kb, i18n).as_markup()


def build_router() -> Router:
    router = Router(name="reminders")

    @router.message(Command("reminders"))
    async def show(
        message: Message,
        ctx: Ctx,
        account: Account | None,
        i18n: Translator,
        services: Services,
    ) -> None:
        if account is None:
            await message.answer(i18n("reminder.menu.need_account"))
            return
        text, markup = await menu(ctx, account, i18n, services)
        await message.answer(text, reply_markup=markup)

    @router.callback_query(ReminderToggle.filter())
    async def toggle(
        query: CallbackQuery,
        callback_data: ReminderToggle,
        ctx: Ctx,
        account: Account | None,
        actor: Actor | None,
        i18n: Translator,
        services: Services,
    ) -> None:
        if account is None or actor is None:
            await query.answer(i18n("reminder.menu.need_account"), show_alert=True)
            return
        kind = callback_data.kind
        changed = await R.set_muted(ctx, actor, kind, callback_data.mute)
        await ctx.session.commit()
        if not changed:
            key = (
                "reminder.menu.already_muted" if callback_data.mute else "reminder.menu.already_on"
            )
            await query.answer(i18n(key))
        else:
            key = "reminder.menu.muted" if callback_data.mute else "reminder.menu.unmuted"
            await query.answer(i18n(key, name=_name(i18n, kind)))
        if query.message is not None:
            text, markup = await menu(ctx, account, i18n, services)
            try:
                await query.message.edit_text(text, reply_markup=markup)  # type: ignore[union-attr]
            except TelegramBadRequest as exc:  # a stale menu already showing this state
                if "not modified" not in exc.message:
                    raise

    @router.callback_query(ReminderTest.filter())
    async def test(
        query: CallbackQuery, ctx: Ctx, account: Account | None, i18n: Translator
    ) -> None:
        if account is None:
            await query.answer(i18n("reminder.menu.need_account"), show_alert=True)
            return
        # At most one test a minute: a repeated press within it is the same outbox row.
        minute = ctx.now().replace(second=0, microsecond=0)
        await notify(
            ctx, account.id, R.TEST, f"account:{account.id}", occurrence=minute, urgent=True
        )  # type: ignore[arg-type]
        await ctx.session.commit()
        await query.answer(i18n("reminder.menu.test_queued"))

    return router
