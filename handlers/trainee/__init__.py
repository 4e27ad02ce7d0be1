"""The trainee's dialogs (the guide's part 2-3): registration and login, the profile, the
application wizard, the status card and the application form, the result and allocation
answers, and the training years. Importing the package registers the trainee notices."""

from __future__ import annotations

from aiogram import Router

from handlers.trainee import notices as notices  # registers the renderers of trainee notices


def build_routers() -> list[Router]:
    from handlers.trainee import apply, login, phone, profile, registration, result, status, years

    return [
        registration.build_router(),
        login.build_router(),
        phone.build_router(),
        profile.build_router(),
        apply.build_router(),
        status.build_router(),
        result.build_router(),
        years.build_router(),
    ]
