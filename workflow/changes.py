"""学员信息变更申请 and 学员培训状态变更申请: filed by the admitting base, decided by the
commission of the base's city (or the province)."""

from __future__ import annotations

from sqlalchemy import select, update

from storage.models import Application, Base, ChangeRequest, Specialty, Training, WorkRecord
from workflow.actor import Actor, require_base, require_city_or_province
from workflow.audit import audit
from workflow.completeness import check_personnel_type
from workflow.context import Ctx
from workflow.enums import (
    NEEDS_CURRENT_UNIT,
    ApplicationStatus,
    BaseKind,
    ChangeKind,
    ChangeStatus,
    PersonnelType,
    TrainingStatus,
)
from workflow.errors import DomainError, NotFound
from workflow.notices import notify, notify_base_staff
from workflow.profile import load as load_profile
from workflow.profile import parse_date
from workflow.text import clean, column_limit, record_id

# Personnel types that may be changed into one another; master's students never change.
CHANGEABLE_TYPES = frozenset(
    {PersonnelType.SOCIAL, PersonnelType.OWN_UNIT, PersonnelType.ENTRUSTED}
)
_STATUS_OF = {
    ChangeKind.WITHDRAW: TrainingStatus.WITHDRAWN,
    ChangeKind.PAUSE: TrainingStatus.PAUSED,
    ChangeKind.EXTEND: TrainingStatus.EXTENDED,
}


async def _training(ctx: Ctx, app: Application) -> Training | None:
    return await ctx.session.scalar(select(Training).where(Training.application_id == app.id))


async def _validate(ctx: Ctx, app: Application, kind: ChangeKind, new_value: str) -> str | None:
    """Check the requested value; return the old value for the record."""
    if kind is ChangeKind.PERSONNEL_TYPE:
        old = PersonnelType(app.personnel_type) if app.personnel_type else None
        try:
            new = PersonnelType(new_value)
        except ValueError as exc:
            raise DomainError("field.choice", field="personnel_type") from exc
        if old not in CHANGEABLE_TYPES or new not in CHANGEABLE_TYPES:
            raise DomainError("change.type_not_changeable")
        if new in NEEDS_CURRENT_UNIT:
            # The new type names its current unit; leaving a unit is updated after the change
            # (the trainee's work module unlocks once the type no longer needs one).
            view = await load_profile(ctx, app.account_id)
            check_personnel_type(new, view.profile.has_work_unit, view.work)
        return old.value
    if kind is ChangeKind.SENDING_UNIT:
        if not 2 <= len(new_value.strip()) <= 128:
            raise DomainError("change.unit_name", min=2, max=128)
        return await ctx.session.scalar(
            select(WorkRecord.unit_name).where(
                WorkRecord.account_id == app.account_id, WorkRecord.is_current
            )
        )
    if kind is ChangeKind.SPECIALTY:
        spec = await ctx.session.get(Specialty, n) if (n := record_id(new_value)) else None
        if spec is None:
            raise NotFound("specialty")
        return str(app.specialty_id)
    if kind is ChangeKind.BASE:
        # Only for trainees in training this year; otherwise withdraw and re-enrol.
        training = await _training(ctx, app)
        this_year = ctx.now().date().year
        if training is None or training.start_date is None or training.start_date.year != this_year:
            raise DomainError("change.base_not_this_year")
        base = await ctx.session.get(Base, n) if (n := record_id(new_value)) else None
        if base is None or base.kind != BaseKind.NATIONAL:
            raise NotFound("base")
        return str(app.base_id)
    if kind is ChangeKind.COLLABORATING_UNIT:
        site = await ctx.session.get(Base, n) if (n := record_id(new_value)) else None
        if site is None or site.parent_id != app.base_id:
            raise NotFound("base")
        return str(app.site_id)
    training = await _training(ctx, app)
    if training is None:
        raise DomainError("change.not_in_training")
    if kind is ChangeKind.EXTEND:
        new_end = parse_date(new_value, "end_date")
        if training.end_date is None or new_end <= training.end_date:
            raise DomainError("change.extend_end", end=training.end_date)
        return training.end_date.isoformat()
    if TrainingStatus(training.status) is TrainingStatus.WITHDRAWN:
        raise DomainError("change.withdrawn")
    return str(training.status)


async def file(
    ctx: Ctx, actor: Actor, application_id: int, kind: ChangeKind | str, new_value: str
) -> ChangeRequest:
    app = await ctx.get(Application, application_id, lock=True)
    require_base(actor, app.base_id)
    if ApplicationStatus(app.status) is not ApplicationStatus.CONFIRMED:
        raise DomainError("change.not_admitted")
    kind = ChangeKind(kind)
    pending = await ctx.session.scalar(
        select(ChangeRequest.id).where(
            ChangeRequest.application_id == application_id,
            ChangeRequest.kind == kind,
            ChangeRequest.status == ChangeStatus.PENDING,
        )
    )
    if pending is not None:
        raise DomainError("change.pending")
    new_value = (
        clean(
            new_value,
            limit=column_limit(ChangeRequest, "new_value"),
            field="new_value",
            required=False,
        )
        or ""
    )
    old = await _validate(ctx, app, kind, new_value)
    row = ChangeRequest(
        application_id=application_id,
        base_id=app.base_id,  # type: ignore[arg-type]
        kind=kind,
        old_value=old,
        new_value=new_value or None,
        filed_by=actor.account_id,
        filed_at=ctx.now(),
    )
    ctx.session.add(row)
    await ctx.session.flush()
    audit(ctx, actor, "change_request", row.id or 0, "file", to_state="pending", kind=kind.value)
    return row


async def decide(
    ctx: Ctx, actor: Actor, change_id: int, approve: bool, reason: str | None = None
) -> ChangeRequest:
    row = await ctx.get(ChangeRequest, change_id, lock=True)
    base = await ctx.get(Base, row.base_id)
    require_city_or_province(actor, base.city_id)
    if ChangeStatus(row.status) is not ChangeStatus.PENDING:
        raise DomainError("change.decided", status=row.status)
    text = clean(
        reason,
        limit=column_limit(ChangeRequest, "reason"),
        field="reason",
        required=False,
        multiline=True,
    )
    if not approve and not text:
        raise DomainError("reason.required")
    app = await ctx.get(Application, row.application_id, lock=True)
    if approve:
        await _apply(ctx, app, row)
    row.status = ChangeStatus.APPROVED if approve else ChangeStatus.REFUSED
    row.reason = text or None
    row.decided_by = actor.account_id
    row.decided_at = ctx.now()
    audit(
        ctx,
        actor,
        "change_request",
        row.id or 0,
        "decide",
        from_state="pending",
        to_state=str(row.status),
        reason=row.reason,
    )
    subject = f"change:{row.id}"
    await notify(
        ctx,
        app.account_id,
        "change_decided",
        subject,
        occurrence=ctx.now(),
        approved=approve,
        change=str(row.kind),
    )
    await notify_base_staff(
        ctx, row.base_id, "base_change_decided", subject, occurrence=ctx.now(), approved=approve
    )
    return row


async def _apply(ctx: Ctx, app: Application, row: ChangeRequest) -> None:
    kind = ChangeKind(row.kind)
    value = row.new_value or ""
    training = await _training(ctx, app)
    if kind is ChangeKind.PERSONNEL_TYPE:
        app.personnel_type = PersonnelType(value)
    elif kind is ChangeKind.SENDING_UNIT:
        await ctx.session.execute(
            update(WorkRecord)
            .where(WorkRecord.account_id == app.account_id, WorkRecord.is_current)
            .values(unit_name=value)
        )
    elif kind is ChangeKind.SPECIALTY:
        app.specialty_id = app.intended_specialty_id = int(value)
    elif kind is ChangeKind.BASE:
        app.base_id = int(value)
        await notify_base_staff(
            ctx, app.base_id, "base_trainee_joined", f"change:{row.id}", occurrence=ctx.now()
        )
        first_site = await ctx.session.scalar(
            select(Base.id).where(Base.parent_id == app.base_id).order_by(Base.id)
        )
        app.site_id = first_site
        if training is not None:
            training.base_id = app.base_id
    elif kind is ChangeKind.COLLABORATING_UNIT:
        app.site_id = int(value)
    elif training is not None:
        training.status = _STATUS_OF[kind]
        if kind is ChangeKind.EXTEND:
            # As filed: the value was checked by parse_date, which also reads 2029-9-1.
            training.end_date = parse_date(value, "end_date")
        training.updated_at = ctx.now()
    app.updated_at = ctx.now()
