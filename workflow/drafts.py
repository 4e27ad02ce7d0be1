"""Drafts of forms a trainee fills outside the chat (the Mini App): kept per account and form,
sealed like personal data, and dropped once the form is saved."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from storage.models import MiniAppDraft
from workflow.actor import Actor
from workflow.context import Ctx
from workflow.errors import DomainError

FIELD = "miniapp_draft"  # the cipher's field (storage.key_rotation.DRAFT_FIELD)
FORMS = frozenset({"profile.basic", "profile.contact", "profile.education", "profile.work"})
MAX_BYTES = 64 * 1024


def _check_form(form: str) -> None:
    if form not in FORMS:
        raise DomainError("field.unknown", field=form)


async def load(ctx: Ctx, actor: Actor, form: str) -> dict[str, Any] | None:
    _check_form(form)
    row = await ctx.session.scalar(
        select(MiniAppDraft).where(
            MiniAppDraft.account_id == actor.account_id, MiniAppDraft.form == form
        )
    )
    if row is None:
        return None
    return json.loads(ctx.cipher.decrypt(FIELD, row.payload_enc))


async def load_all(ctx: Ctx, actor: Actor, prefix: str) -> dict[str, dict[str, Any]]:
    rows = await ctx.session.scalars(
        select(MiniAppDraft).where(
            MiniAppDraft.account_id == actor.account_id, MiniAppDraft.form.startswith(prefix)
        )
    )
    return {r.form: json.loads(ctx.cipher.decrypt(FIELD, r.payload_enc)) for r in rows}


async def keep(ctx: Ctx, actor: Actor, form: str, values: dict[str, Any]) -> None:
    """Store what the form holds now (replacing the earlier draft)."""
    _check_form(form)
    text = json.dumps(values, ensure_ascii=False, default=str)
    if len(text.encode()) > MAX_BYTES:
        raise DomainError("field.too_long", field=form, max=MAX_BYTES)
    sealed = ctx.cipher.encrypt(FIELD, text)
    stmt = (
        select(MiniAppDraft)
        .where(MiniAppDraft.account_id == actor.account_id, MiniAppDraft.form == form)
        .with_for_update()
    )
    row = await ctx.session.scalar(stmt)
    if row is None:
        try:
            async with ctx.session.begin_nested():
                ctx.session.add(
                    MiniAppDraft(
                        account_id=actor.account_id,
                        form=form,
                        payload_enc=sealed,
                        updated_at=ctx.now(),
                    )
                )
            return
        except IntegrityError:  # the same form saved from a second tab a moment ago
            row = await ctx.session.scalar(stmt)
            if row is None:
                raise
    row.payload_enc = sealed
    row.updated_at = ctx.now()


async def drop(ctx: Ctx, actor: Actor, form: str) -> None:
    await ctx.session.execute(
        delete(MiniAppDraft).where(
            MiniAppDraft.account_id == actor.account_id, MiniAppDraft.form == form
        )
    )
