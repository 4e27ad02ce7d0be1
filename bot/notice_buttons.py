"""Buttons shared by chat screens and the notices the scheduler renders: acting on a trainee's
result or allocation offer, and asking for the calendar. The handlers live in handlers/."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton

from bot.callback_data import Id, one_of
from bot.i18n import Translator


class ResultAction(CallbackData, prefix="res"):
    """accept | decline (asks to confirm) | decline_yes | decline_no, on application `app_id`."""

    action: one_of("accept", "decline", "decline_yes", "decline_no")
    app_id: Id


class OfferAction(CallbackData, prefix="offer"):
    """accept | refuse, on allocation offer `offer_id`."""

    action: one_of("accept", "refuse", "refuse_yes", "refuse_no")
    offer_id: Id


class CalendarAction(CallbackData, prefix="cal"):
    """Send the user's deadlines as an .ics file (the status card, reminders, /start)."""

    action: one_of("ics") = "ics"


def result_answer_row(
    i18n: Translator, app_id: int, accept_suffix: str = ""
) -> list[InlineKeyboardButton]:
    """Accept and decline of a result, labelled alike wherever they appear: the result's
    notice, the status card and the reminder before the confirmation period ends."""
    return [
        InlineKeyboardButton(
            text=i18n("trainee.result.accept") + accept_suffix,
            callback_data=ResultAction(action="accept", app_id=app_id).pack(),
        ),
        InlineKeyboardButton(
            text=i18n("trainee.result.decline"),
            callback_data=ResultAction(action="decline", app_id=app_id).pack(),
        ),
    ]


def calendar_button(i18n: Translator) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=i18n("calendar.button"), callback_data=CalendarAction().pack())
