"""Keyboard pieces every dialog uses: back/cancel rows and pagination."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.i18n import Translator

T = TypeVar("T")
PAGE_SIZE = 8
CANCEL_DATA = "cancel"  # handled in handlers/common.py: clears the dialog


def page_of(items: Sequence[T], page: int, size: int = PAGE_SIZE) -> tuple[Sequence[T], int, int]:
    """The items of `page` (clamped into range), the page, and the number of pages."""
    pages = max(1, -(-len(items) // size))
    page = min(max(page, 0), pages - 1)
    return items[page * size : (page + 1) * size], page, pages


def pager_row(
    i18n: Translator, page: int, pages: int, make: Callable[[int], CallbackData]
) -> list[InlineKeyboardButton]:
    row: list[InlineKeyboardButton] = []
    if page > 0:
        row.append(
            InlineKeyboardButton(text=i18n("common.prev_page"), callback_data=make(page - 1).pack())
        )
    if page < pages - 1:
        row.append(
            InlineKeyboardButton(text=i18n("common.next_page"), callback_data=make(page + 1).pack())
        )
    return row


def nav_row(
    i18n: Translator, back: CallbackData | str | None = None, *, cancel: bool = True
) -> list[InlineKeyboardButton]:
    row: list[InlineKeyboardButton] = []
    if back is not None:
        data = back.pack() if isinstance(back, CallbackData) else back
        row.append(InlineKeyboardButton(text=i18n("common.back"), callback_data=data))
    if cancel:
        row.append(InlineKeyboardButton(text=i18n("common.cancel"), callback_data=CANCEL_DATA))
    return row


def with_nav(
    builder: InlineKeyboardBuilder,
    i18n: Translator,
    back: CallbackData | str | None = None,
    *,
    cancel: bool = True,
) -> InlineKeyboardBuilder:
    row = nav_row(i18n, back, cancel=cancel)
    if row:
        builder.row(*row)
    return builder
