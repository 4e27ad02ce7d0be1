"""Callback data shared by more than one feature: the buttons on notices and reminders that
act on a trainee's result or allocation offer. The handlers live in handlers/trainee/."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData

from bot.callback_data import Id, one_of


class ResultAction(CallbackData, prefix="res"):
    """accept | decline (asks to confirm) | decline_yes | decline_no, on application `app_id`."""

    action: one_of("accept", "decline", "decline_yes", "decline_no")
    app_id: Id


class OfferAction(CallbackData, prefix="offer"):
    """accept | refuse, on allocation offer `offer_id`."""

    action: one_of("accept", "refuse", "refuse_yes", "refuse_no")
    offer_id: Id
