"""Chat routers, one per feature, each built by its factory. Order matters: common commands
first (they work in every state), the fallback last."""

from __future__ import annotations

from aiogram import Router


def build_routers() -> list[Router]:
    from handlers import common

    return [
        common.build_router(),
        common.build_fallback_router(),
    ]
