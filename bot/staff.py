"""What the staff's chat screens (`handlers/staff/`) and the Mini App's staff pages
(`bot/miniapp/staff_api.py`) share: the role check and the summary of a list's filters."""

from __future__ import annotations

import html
from typing import Any

from sqlalchemy import select

from bot.i18n import Translator
from storage.models import Batch, Specialty
from workflow.actor import Actor
from workflow.context import Ctx
from workflow.enums import STAFF_ROLES, Role
from workflow.errors import Forbidden


def need(actor: Actor | None, *roles: Role) -> Actor:
    """The acting staff member, if their role is one of `roles` (any staff role by default).
    A trainee or a guest using a staff command or button is refused the same way."""
    allowed = roles or tuple(STAFF_ROLES)
    if actor is None or actor.role not in allowed:
        raise Forbidden("staff.only")
    return actor


def _esc(text: str) -> str:
    return html.escape(text, quote=False)


async def filter_text(ctx: Ctx, i18n: Translator, flt: dict[str, Any]) -> str:
    """The line that says which filters a list is shown with: batch, specialty, the typed
    text, the status filter."""
    batch = spec = i18n("staff.list.all")
    if flt.get("b"):
        name = await ctx.session.scalar(select(Batch.name).where(Batch.id == flt["b"]))
        batch = _esc(name or "—")
    if flt.get("s"):
        name = await ctx.session.scalar(select(Specialty.name).where(Specialty.id == flt["s"]))
        spec = _esc(name or "—")
    text = _esc(flt["q"]) if flt.get("q") else "—"
    extra = i18n(f"staff.lbl.extra.{flt['x']}") if flt.get("x") else i18n("staff.list.all")
    return i18n("staff.list.filters", batch=batch, specialty=spec, text=text, extra=extra)
