"""/calendar: the user's own deadlines as an .ics document (events from workflow.calendar,
the file from bot.calendar_ics), also behind the 📅 button of the status card and reminders."""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.filters import Command
from aiogram.types import BufferedInputFile, CallbackQuery, Message

from bot import calendar_ics
from bot.i18n import Translator
from bot.notice_buttons import CalendarAction
from workflow import calendar
from workflow.actor import Actor
from workflow.context import Ctx

FILENAME = "zhupei-deadlines.ics"


async def send_calendar(bot: Bot, chat_id: int, ctx: Ctx, actor: Actor, i18n: Translator) -> None:
    events = await calendar.events(ctx, actor)
    if not events:
        await bot.send_message(chat_id, i18n("calendar.empty"))
        return
    data = calendar_ics.render(events, i18n, ctx.now())
    await bot.send_document(
        chat_id,
        BufferedInputFile(data, filename=FILENAME),
        caption=i18n("calendar.caption", n=len(events)),
    )


def build_router() -> Router:
    router = Router(name="calendar")

    @router.message(Command("calendar"))
    async def calendar_command(
        message: Message, bot: Bot, ctx: Ctx, actor: Actor | None, i18n: Translator
    ) -> None:
        if actor is None:
            await message.answer(i18n("calendar.need_account"))
            return
        await send_calendar(bot, message.chat.id, ctx, actor, i18n)

    @router.callback_query(CalendarAction.filter())
    async def calendar_pressed(
        query: CallbackQuery, bot: Bot, ctx: Ctx, actor: Actor | None, i18n: Translator
    ) -> None:
        if actor is None:
            await query.answer(i18n("calendar.need_account"), show_alert=True)
            return
        await query.answer()
        await send_calendar(bot, query.from_user.id, ctx, actor, i18n)

    return router
