"""What a trainee handler gets as `env`: the update's context, the trainee, the translator, the
dialog state, the bot and the services, built by the router's middleware (as the staff
screens' `env`, `handlers/staff/common.py`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiogram import Router

from bot.handler_env import UpdateParts, router_with_env
from bot.services import Services
from handlers.trainee.ui import trainee_only


@dataclass
class Env(UpdateParts):
    """The parts of an update a trainee screen needs."""

    services: Services


async def _build(data: dict[str, Any]) -> Env:
    keys = ("ctx", "actor", "i18n", "state", "bot", "services")
    return Env(*(data[k] for k in keys))


def trainee_router(name: str) -> Router:
    """A trainee feature's router: its messages and buttons are for trainees only, and its
    handlers can take `env: Env`."""
    return router_with_env(name, _build, trainee_only)
