"""Notices the workflow sends: rows in the outbox, in the transaction of the change.

The outbox sender renders `notice.<kind>` in the recipient's language at send time. The dedupe
key makes enqueueing idempotent: (recipient, kind, subject, occurrence), where the occurrence is
the deadline for reminders or the moment of the change for the workflow's own notices.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from storage.models import Account, OutboxMessage
from storage.upsert import insert_ignore
from workflow.context import Ctx
from workflow.enums import Role


def dedupe_key(account_id: int, kind: str, subject: str, occurrence: str) -> str:
    return f"{account_id}|{kind}|{subject}|{occurrence}"


async def notify(
    ctx: Ctx,
    account_id: int,
    kind: str,
    subject: str,
    *,
    occurrence: datetime | str | None = None,
    deadline: datetime | None = None,
    urgent: bool = False,
    not_before: datetime | None = None,
    **params: Any,
) -> bool:
    """Enqueue one notice; returns False when the same notice is already queued or sent."""
    occ = occurrence if occurrence is not None else ctx.now()
    occ_text = occ.isoformat() if isinstance(occ, datetime) else str(occ)
    return await insert_ignore(
        ctx.session,
        OutboxMessage,
        {
            "dedupe_key": dedupe_key(account_id, kind, subject, occ_text),
            "account_id": account_id,
            "kind": kind,
            "subject": subject,
            "payload": params,
            "urgent": urgent,
            "deadline_at": deadline,
            "not_before": not_before,
            "status": "pending",
            "attempts": 0,
            "created_at": ctx.now(),
        },
        ["dedupe_key"],
    )


async def notify_base_staff(ctx: Ctx, base_id: int, kind: str, subject: str, **kw: Any) -> None:
    staff = await ctx.session.scalars(
        select(Account.id).where(
            Account.role == Role.BASE, Account.base_id == base_id, Account.is_active
        )
    )
    for account_id in staff.all():
        await notify(ctx, account_id, kind, subject, **kw)
