"""Callback data shared by more than one feature: the buttons on notices and reminders that
act on a trainee's result or allocation offer. The handlers live in handlers/trainee/."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData


class ResultAction(CallbackData, prefix="res"):
    """accept | decline (asks to confirm) | decline_yes | decline_no, on application `app_id`."""

    action: str
    app_id: int


class OfferAction(CallbackData, prefix="offer"):
    """accept | refuse, on allocation offer `offer_id`."""

    action: str
    offer_id: int


class CalendarAction(CallbackData, prefix="cal"):
    """Send the user's deadlines as an .ics file (the status card, reminders, /start)."""

    action: str = "ics"
