"""Base staff and commission consoles (the guide's part 2-4)."""

from __future__ import annotations

from aiogram import Router


def build_routers() -> list[Router]:
    return []
