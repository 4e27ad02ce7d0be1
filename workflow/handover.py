"""Hand-over to the national platform: every admission record changed since the last hand-over.

"Changed" is read from the audit log, which every transition writes: a record changed when an
audit row about it, or about its offer, change request, training or reduction, falls in the
window (since the last hand-over's `until`, up to now). The rows carry the full ID number: the
national platform matches trainees by it. Only the province (or the administrator's command
line) runs a hand-over.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select, union
from sqlalchemy.orm import aliased

from storage.models import (
    AllocationOffer,
    Application,
    AuditLog,
    Base,
    Batch,
    ChangeRequest,
    Handover,
    Reduction,
    Specialty,
    TraineeProfile,
    Training,
)
from workflow.actor import Actor, require_role
from workflow.audit import audit
from workflow.context import Ctx
from workflow.enums import Role

FIELDS = (
    "application_id",
    "name",
    "id_type",
    "id_number",
    "gender",
    "birth_date",
    "batch",
    "cohort_year",
    "personnel_type",
    "specialty_code",
    "specialty",
    "base_code",
    "base",
    "site_code",
    "site",
    "status",
    "sent_at",
    "confirmed_at",
    "checkin",
    "training_years",
    "training_start",
    "training_end",
    "training_status",
    "reduction_applied_at",
    "changed_at",
)


@dataclass(frozen=True)
class HandoverBatch:
    handover: Handover
    rows: list[dict[str, Any]]


def _changed_ids(since: datetime | None, until: datetime) -> Any:
    """A selectable of application ids touched in the window, through every related entity."""

    def window(entity: str) -> list[Any]:
        where = [AuditLog.entity == entity, AuditLog.at <= until]
        if since is not None:
            where.append(AuditLog.at > since)
        return where

    audit_ids = select(AuditLog.entity_id)
    return union(
        select(Application.id).where(Application.id.in_(audit_ids.where(*window("application")))),
        select(AllocationOffer.application_id).where(
            AllocationOffer.id.in_(audit_ids.where(*window("allocation_offer")))
        ),
        select(ChangeRequest.application_id).where(
            ChangeRequest.id.in_(audit_ids.where(*window("change_request")))
        ),
        select(Training.application_id).where(
            Training.id.in_(audit_ids.where(*window("training")))
        ),
        select(Training.application_id)
        .join(Reduction, Reduction.training_id == Training.id)
        .where(Reduction.id.in_(audit_ids.where(*window("reduction")))),
    ).subquery()


def _iso(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


async def collect(ctx: Ctx, since: datetime | None, until: datetime) -> list[dict[str, Any]]:
    """The changed records, one dict per application (full ID number decrypted here only)."""
    ids = _changed_ids(since, until)
    site = aliased(Base)
    last_change = (
        select(AuditLog.entity_id.label("aid"), func.max(AuditLog.at).label("at"))
        .where(AuditLog.entity == "application")
        .group_by(AuditLog.entity_id)
        .subquery()
    )
    stmt = (
        select(
            Application.id,
            TraineeProfile.name,
            TraineeProfile.id_type,
            TraineeProfile.id_number_enc,
            TraineeProfile.gender,
            TraineeProfile.birth_date,
            Batch.name,
            Batch.cohort_year,
            Application.personnel_type,
            Specialty.code,
            Specialty.name,
            Base.code,
            Base.name,
            site.code,
            site.name,
            Application.status,
            Application.sent_at,
            Application.confirmed_at,
            Application.checkin,
            Training.duration_years,
            Training.start_date,
            Training.end_date,
            Training.status,
            Training.reduction_applied_at,
            last_change.c.at,
        )
        .select_from(Application)
        .join(ids, ids.c.id == Application.id)
        .join(TraineeProfile, TraineeProfile.account_id == Application.account_id)
        .join(Batch, Batch.id == Application.batch_id)
        .outerjoin(Specialty, Specialty.id == Application.specialty_id)
        .outerjoin(Base, Base.id == Application.base_id)
        .outerjoin(site, site.id == Application.site_id)
        .outerjoin(Training, Training.application_id == Application.id)
        .outerjoin(last_change, last_change.c.aid == Application.id)
        .order_by(Application.id)
    )
    out: list[dict[str, Any]] = []
    for values in await ctx.session.execute(stmt):
        row = dict(zip(FIELDS, values, strict=True))
        row["id_number"] = ctx.cipher.decrypt("id_number", row["id_number"])
        out.append({k: _iso(v) for k, v in row.items()})
    return out


async def last(ctx: Ctx) -> Handover | None:
    return await ctx.session.scalar(select(Handover).order_by(Handover.until.desc()).limit(1))


async def run(ctx: Ctx, actor: Actor | None) -> HandoverBatch:
    """Collect what changed since the last hand-over and record this one (the province, or the
    command line with no actor)."""
    if actor is not None:
        require_role(actor, Role.PROVINCE)
    previous = await last(ctx)
    since = previous.until if previous else None
    until = ctx.now()
    rows = await collect(ctx, since, until)
    record = Handover(
        since=since,
        until=until,
        rows=len(rows),
        actor_id=actor.account_id if actor else None,
        created_at=until,
    )
    ctx.session.add(record)
    await ctx.session.flush()
    audit(ctx, actor, "handover", record.id or 0, "handover", rows=len(rows))
    return HandoverBatch(record, rows)
