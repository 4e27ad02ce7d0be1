"""/history: a record's audit log, shown to those whose scope covers the record.

An application's history gathers the rows of everything that hangs off it: its allocation
offers, change requests, training and reductions. A fixed number of queries per record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select

from storage.models import (
    Account,
    AllocationOffer,
    Application,
    AuditLog,
    Base,
    ChangeRequest,
    Plan,
    Reduction,
    Training,
)
from workflow.actor import Actor, require_role, sees_base
from workflow.context import Ctx
from workflow.enums import Role
from workflow.errors import DomainError, Forbidden, NotFound

# What a user may type for each entity, and the audit log's entity name.
ENTITIES = {
    "app": "application",
    "training": "training",
    "reduction": "reduction",
    "change": "change_request",
    "plan": "plan",
    "offer": "allocation_offer",
}
LIMIT = 60


@dataclass(frozen=True)
class Entry:
    at: datetime
    actor_name: str | None
    actor_role: str | None
    entity: str
    entity_id: int
    action: str
    from_state: str | None
    to_state: str | None
    reason: str | None


async def _base_of(ctx: Ctx, entity: str, entity_id: int) -> int | None:
    """The base a record belongs to (the scope check reads it)."""
    if entity == "application":
        return await ctx.session.scalar(
            select(Application.base_id).where(Application.id == entity_id)
        )
    model: Any = {
        "training": Training,
        "reduction": Reduction,
        "change_request": ChangeRequest,
        "plan": Plan,
        "allocation_offer": AllocationOffer,
    }[entity]
    return await ctx.session.scalar(select(model.base_id).where(model.id == entity_id))


async def _related(ctx: Ctx, application_id: int) -> list[Any]:
    """Audit clauses for an application and the records that hang off it."""
    offers = select(AllocationOffer.id).where(AllocationOffer.application_id == application_id)
    changes = select(ChangeRequest.id).where(ChangeRequest.application_id == application_id)
    trainings = select(Training.id).where(Training.application_id == application_id)
    reductions = select(Reduction.id).where(Reduction.training_id.in_(trainings))
    return [
        and_(AuditLog.entity == "application", AuditLog.entity_id == application_id),
        and_(AuditLog.entity == "allocation_offer", AuditLog.entity_id.in_(offers)),
        and_(AuditLog.entity == "change_request", AuditLog.entity_id.in_(changes)),
        and_(AuditLog.entity == "training", AuditLog.entity_id.in_(trainings)),
        and_(AuditLog.entity == "reduction", AuditLog.entity_id.in_(reductions)),
    ]


async def history(ctx: Ctx, actor: Actor, kind: str, entity_id: int) -> list[Entry]:
    require_role(actor, Role.BASE, Role.CITY, Role.PROVINCE)
    entity = ENTITIES.get(kind)
    if entity is None:
        raise DomainError("staff.history_kind", kinds=" ".join(ENTITIES))
    base_id = await _base_of(ctx, entity, entity_id)
    if base_id is None:
        raise NotFound(entity)
    city_id = await ctx.session.scalar(select(Base.city_id).where(Base.id == base_id))
    if not sees_base(actor, base_id, city_id or 0):
        raise Forbidden(
            "forbidden.other_city" if actor.role is Role.CITY else "forbidden.other_base"
        )
    if entity == "application":
        where = or_(*await _related(ctx, entity_id))
    else:
        where = and_(AuditLog.entity == entity, AuditLog.entity_id == entity_id)
    stmt = (
        select(
            AuditLog.at,
            Account.display_name,
            Account.role,
            AuditLog.entity,
            AuditLog.entity_id,
            AuditLog.action,
            AuditLog.from_state,
            AuditLog.to_state,
            AuditLog.reason,
        )
        .outerjoin(Account, Account.id == AuditLog.actor_id)
        .where(where)
        .order_by(AuditLog.at.desc(), AuditLog.id.desc())
        .limit(LIMIT)
    )
    rows = [Entry(*r) for r in await ctx.session.execute(stmt)]
    rows.reverse()
    return rows
