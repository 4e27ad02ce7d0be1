"""Init data signed the way Telegram signs it for a Mini App, and the URL fragment a client
opens the page with: the emulator's own (`bot/emulator/webapp.py`), under the names the tests
use."""

from __future__ import annotations

from bot.emulator.webapp import launch_fragment as fragment
from bot.emulator.webapp import signed_init_data as sign_init_data

__all__ = ["fragment", "sign_init_data"]
