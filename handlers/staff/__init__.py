"""Base staff and commission consoles (the guide's part 2-4)."""

from __future__ import annotations

from aiogram import Router


def build_routers() -> list[Router]:
    from handlers.staff import (
        allocation,
        changes,
        handover,
        history,
        inputs,
        lists,
        menu,
        notices,  # noqa: F401  (registers the staff notice renderers)
        plans,
        records,
        stats,
        team,
        years,
    )

    return [
        menu.build_router(),
        records.build_router(),
        lists.build_router(),
        plans.build_router(),
        years.build_router(),
        allocation.build_router(),
        changes.build_router(),
        handover.build_router(),
        stats.build_router(),
        history.build_router(),
        team.build_router(),
        inputs.build_router(),  # last: typed answers, after every command
    ]
