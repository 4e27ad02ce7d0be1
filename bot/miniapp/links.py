"""Where the Mini App's buttons point: MINIAPP_URL, or the sandbox's own address."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, WebAppInfo

from bot.config import Settings

# The sandbox's web chat opens any Mini App button on its own address (bot/webchat/): this
# base only carries the page's name there.
SANDBOX_BASE = "https://miniapp.sandbox/app/"


def miniapp_base(settings: Settings) -> str | None:
    if settings.miniapp_url:
        return settings.miniapp_url.rstrip("/") + "/"
    return SANDBOX_BASE if settings.sandbox else None


def miniapp_page_url(settings: Settings, page: str) -> str | None:
    """The page's https address, or None when the Mini App is not offered."""
    base = miniapp_base(settings)
    return base + page if base else None


def miniapp_button(settings: Settings, text: str, page: str) -> InlineKeyboardButton | None:
    """A `web_app` inline button opening the page, or None when the Mini App is not offered."""
    url = miniapp_page_url(settings, page)
    return InlineKeyboardButton(text=text, web_app=WebAppInfo(url=url)) if url else None


def miniapp_row(settings: Settings | None, text: str, page: str) -> list[InlineKeyboardButton]:
    """A keyboard row with the page's button, or an empty row (left out) when not offered."""
    button = miniapp_button(settings, text, page) if settings is not None else None
    return [button] if button else []
