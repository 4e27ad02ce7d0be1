"""Change requests, scoped to the actor."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select

from storage.models import (
    Application,
    Base,
    ChangeRequest,
    TraineeProfile,
)
from workflow.actor import Actor, require_role, sees_base
from workflow.context import Ctx
from workflow.enums import (
    ChangeStatus,
    Role,
)
from workflow.errors import NotFound
from workflow.queues.common import Page, forbid, paginate

# --- change requests ------------------------------------------------------------------------


@dataclass(frozen=True)
class ChangeRow:
    id: int
    application_id: int
    name: str
    id_tail: str
    base_id: int
    base_name: str
    city_id: int
    kind: str
    old_value: str | None
    new_value: str | None
    status: str
    reason: str | None
    filed_at: datetime | None
    decided_at: datetime | None


def _change_select() -> Select[Any]:
    return (
        select(
            ChangeRequest.id,
            ChangeRequest.application_id,
            TraineeProfile.name,
            TraineeProfile.id_tail,
            ChangeRequest.base_id,
            Base.name,
            Base.city_id,
            ChangeRequest.kind,
            ChangeRequest.old_value,
            ChangeRequest.new_value,
            ChangeRequest.status,
            ChangeRequest.reason,
            ChangeRequest.filed_at,
            ChangeRequest.decided_at,
        )
        .select_from(ChangeRequest)
        .join(Application, Application.id == ChangeRequest.application_id)
        .join(TraineeProfile, TraineeProfile.account_id == Application.account_id)
        .join(Base, Base.id == ChangeRequest.base_id)
    )


def _change_scope(actor: Actor) -> list[Any]:
    require_role(actor, Role.BASE, Role.CITY, Role.PROVINCE)
    if actor.role is Role.BASE:
        return [ChangeRequest.base_id == actor.base_id]
    if actor.role is Role.CITY:
        return [Base.city_id == actor.city_id]
    return []


async def change_requests(
    ctx: Ctx, actor: Actor, *, pending_only: bool, page: int = 0, size: int = 8
) -> Page[ChangeRow]:
    """A base's requests (newest first); a commission's pending ones (oldest first)."""
    where = _change_scope(actor)
    if pending_only:
        where.append(ChangeRequest.status == ChangeStatus.PENDING)
    total = int(
        await ctx.session.scalar(
            select(func.count(ChangeRequest.id))
            .select_from(ChangeRequest)
            .join(Base, Base.id == ChangeRequest.base_id)
            .where(*where)
        )
        or 0
    )
    page, pages = paginate(total, page, size)
    order = ChangeRequest.id if pending_only else ChangeRequest.id.desc()
    stmt = _change_select().where(*where).order_by(order).limit(size).offset(page * size)
    return Page([ChangeRow(*r) for r in await ctx.session.execute(stmt)], total, page, pages)


async def change_request(ctx: Ctx, actor: Actor, change_id: int) -> ChangeRow:
    row = (await ctx.session.execute(_change_select().where(ChangeRequest.id == change_id))).first()
    if row is None:
        raise NotFound("change_request")
    result = ChangeRow(*row)
    require_role(actor, Role.BASE, Role.CITY, Role.PROVINCE)
    if not sees_base(actor, result.base_id, result.city_id):
        raise forbid(actor)
    return result
