"""Chat routers, one per feature, each built by its factory. Order matters: common commands
first (they work in every state), then the features, the fallback last."""

from __future__ import annotations

from aiogram import Router


def build_routers() -> list[Router]:
    from bot import lists
    from handlers import calendar, common, reminders, staff, trainee
    from handlers.staff import changes, plans
    from handlers.trainee import apply, profile

    return [
        common.build_router(),
        lists.build_router(
            {
                "apply": apply.search_screen,
                "ethnicity": profile.search_screen,
                "declare": plans.search_specialty,
                "change": changes.search_values,
            }
        ),
        *trainee.build_routers(),
        *staff.build_routers(),
        reminders.build_router(),
        calendar.build_router(),
        common.build_fallback_router(),
    ]
