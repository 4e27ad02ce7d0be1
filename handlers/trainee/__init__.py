"""The trainee's dialogs (the guide's part 2-3)."""

from __future__ import annotations

from aiogram import Router


def build_routers() -> list[Router]:
    return []
