"""Every state change leaves an audit row in the same transaction."""

from __future__ import annotations

from typing import Any

from storage.models import AuditLog
from workflow.actor import Actor
from workflow.context import Ctx


def audit(
    ctx: Ctx,
    actor: Actor | None,
    entity: str,
    entity_id: int,
    action: str,
    *,
    from_state: str | None = None,
    to_state: str | None = None,
    reason: str | None = None,
    **detail: Any,
) -> AuditLog:
    row = AuditLog(
        at=ctx.now(),
        actor_id=actor.account_id if actor else None,
        entity=entity,
        entity_id=entity_id,
        action=action,
        from_state=from_state,
        to_state=to_state,
        reason=reason,
        detail=detail,
    )
    ctx.session.add(row)
    return row
