"""Timed transitions in bulk, for the scheduler's sweep.

`results.make_acceptable` and `results.expire` move one application; at the start and the end of
a confirmation period thousands become due at the same moment. These functions apply the same
rules with the same effects (status, audit row, outbox notice with the same dedupe key) to every
due application in a few statements, a chunk at a time. A unit test keeps them equal to the
one-application versions.

Each UPDATE repeats the due condition next to the id list, so a row another transaction changed
meanwhile (the base cancelled, the trainee accepted) is left alone; on PostgreSQL the chunk skips
rows locked by such a transaction and the next sweep takes them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from storage.models import AllocationOffer, Application, AuditLog, OutboxMessage
from workflow import allocation
from workflow.context import Ctx
from workflow.enums import ApplicationStatus as S
from workflow.enums import OfferStatus
from workflow.notices import dedupe_key
from workflow.reminders import ACCEPT_BUTTON_KINDS, CLOSED_EDIT

CHUNK = 1000
_APP = Application.__table__  # type: ignore[attr-defined]


def _insert_ignore(ctx: Ctx, model: Any) -> Any:
    bind = ctx.session.bind
    dialect = bind.dialect.name if bind is not None else "sqlite"
    insert_ = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert_(model.__table__).on_conflict_do_nothing(index_elements=["dedupe_key"])


async def notify_many(ctx: Ctx, rows: Sequence[dict[str, Any]]) -> None:
    """`notices.notify` for many rows in one statement: each row has account_id, kind, subject,
    occurrence and optionally deadline, urgent, edit_of."""
    if not rows:
        return
    now = ctx.now()
    values = []
    for row in rows:
        occ = row["occurrence"]
        occ_text = occ.isoformat() if isinstance(occ, datetime) else str(occ)
        values.append(
            {
                "dedupe_key": dedupe_key(row["account_id"], row["kind"], row["subject"], occ_text),
                "account_id": row["account_id"],
                "kind": row["kind"],
                "subject": row["subject"],
                "payload": row.get("payload", {}),
                "urgent": row.get("urgent", False),
                "deadline_at": row.get("deadline"),
                "not_before": None,
                "status": "pending",
                "attempts": 0,
                "created_at": now,
                "edit_of": row.get("edit_of"),
            }
        )
    await ctx.session.execute(_insert_ignore(ctx, OutboxMessage), values)


async def _audit_many(
    ctx: Ctx, ids: Sequence[int], action: str, from_state: str, to_state: str
) -> None:
    if not ids:
        return
    now = ctx.now()
    await ctx.session.execute(
        insert(AuditLog),
        [
            {
                "at": now,
                "actor_id": None,
                "entity": "application",
                "entity_id": app_id,
                "action": action,
                "from_state": from_state,
                "to_state": to_state,
                "reason": None,
                "detail": {},
            }
            for app_id in ids
        ],
    )


def _due(condition: Any, order: Any, limit: int) -> Any:
    return (
        select(_APP.c.id)
        .where(condition)
        .order_by(order, _APP.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)  # PostgreSQL only; SQLite serializes writers
    )


async def promote_acceptable(ctx: Ctx, *, limit: int = CHUNK) -> list[int]:
    """`results.make_acceptable` for up to `limit` results whose lock period passed."""
    now = ctx.now()
    condition = (_APP.c.status == S.SENT.value) & (_APP.c.acceptable_at <= now)
    result = await ctx.session.execute(
        update(_APP)
        .where(_APP.c.id.in_(_due(condition, _APP.c.acceptable_at, limit)), condition)
        .values(status=S.ACCEPTABLE.value, updated_at=now)
        .returning(_APP.c.id, _APP.c.account_id, _APP.c.acceptable_at, _APP.c.deadline_at)
    )
    rows = result.all()
    ids = sorted(r.id for r in rows)
    await _audit_many(ctx, ids, "lock_passed", S.SENT.value, S.ACCEPTABLE.value)
    await notify_many(
        ctx,
        [
            {
                "account_id": r.account_id,
                "kind": "result_acceptable",
                "subject": f"application:{r.id}",
                "occurrence": r.acceptable_at,
                "deadline": r.deadline_at,
                "urgent": True,
            }
            for r in rows
        ],
    )
    return ids


async def expire_unanswered(ctx: Ctx, *, limit: int = CHUNK) -> list[int]:
    """`results.expire` for up to `limit` results whose confirmation period passed unanswered;
    the messages that carried their accept buttons are queued to be edited."""
    now = ctx.now()
    expired: list[Any] = []
    for before in (S.ACCEPTABLE, S.SENT):
        condition = (_APP.c.status == before.value) & (_APP.c.deadline_at < now)
        result = await ctx.session.execute(
            update(_APP)
            .where(_APP.c.id.in_(_due(condition, _APP.c.deadline_at, limit)), condition)
            .values(status=S.EXPIRED.value, answered_at=now, updated_at=now)
            .returning(_APP.c.id, _APP.c.account_id, _APP.c.deadline_at)
        )
        rows = result.all()
        await _audit_many(ctx, sorted(r.id for r in rows), "expire", before.value, "expired")
        expired += rows
    await notify_many(
        ctx,
        [
            {
                "account_id": r.account_id,
                "kind": "result_expired",
                "subject": f"application:{r.id}",
                "occurrence": r.deadline_at,
            }
            for r in expired
        ],
    )
    await enqueue_closed_edits(ctx, [r.id for r in expired])
    return sorted(r.id for r in expired)


async def enqueue_closed_edits(ctx: Ctx, application_ids: Sequence[int]) -> int:
    """For every sent message that carried an accept button for these applications, an edit
    (urgent: edits make no sound) that replaces it with "the period closed at hh:mm"."""
    if not application_ids:
        return 0
    o = OutboxMessage
    targets = (
        await ctx.session.execute(
            select(o.id, o.account_id, o.subject).where(
                o.subject.in_([f"application:{i}" for i in application_ids]),
                o.kind.in_(ACCEPT_BUTTON_KINDS),
                o.status == "sent",
                o.message_id.is_not(None),
            )
        )
    ).all()
    await notify_many(
        ctx,
        [
            {
                "account_id": t.account_id,
                "kind": CLOSED_EDIT,
                "subject": t.subject,
                "occurrence": f"edit:{t.id}",
                "urgent": True,
                "edit_of": t.id,
            }
            for t in targets
        ],
    )
    return len(targets)


async def expire_offers(ctx: Ctx) -> list[int]:
    """`allocation.expire_offer` for every unanswered offer past its period (offers are few)."""
    ids = (
        await ctx.session.scalars(
            select(AllocationOffer.id)
            .where(
                AllocationOffer.status == OfferStatus.OFFERED,
                AllocationOffer.expires_at < ctx.now(),
            )
            .order_by(AllocationOffer.id)
            .limit(CHUNK)
        )
    ).all()
    done = []
    for offer_id in ids:
        if await allocation.expire_offer(ctx, offer_id) is not None:
            done.append(offer_id)
    return done
