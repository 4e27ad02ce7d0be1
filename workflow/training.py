"""培训年限管理: duration and dates after check-in, and the reduction (减免) review chain
trainee → base → city → province → applied."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from storage import files
from storage.models import Application, Base, Document, Reduction, Training
from workflow.actor import Actor, require_base, require_city_or_province, require_role
from workflow.audit import audit
from workflow.context import Ctx
from workflow.documents import check_declared as check_declared  # before a download
from workflow.documents import check_pdf_off_loop, safe_filename
from workflow.enums import DocumentKind, ReductionStatus, Role, TrainingStatus
from workflow.errors import DomainError, NotFound
from workflow.notices import notify
from workflow.text import clean, column_limit

DURATIONS = (1, 2, 3)
# The end date may be moved earlier than the derived one by this much (to end with the cohort,
# e.g. 2021-09-01 → 2024-06-30 for three years); never later: that is an extension (延期).
END_EARLIER_MAX = timedelta(days=92)
REVIEWING = (ReductionStatus.AT_BASE, ReductionStatus.AT_CITY, ReductionStatus.AT_PROVINCE)


def derived_end(start: date, years: int) -> date:
    """Start + N years − 1 day: three years from 2023-07-01 end on 2026-06-30."""
    try:
        anniversary = start.replace(year=start.year + years)
    except ValueError:  # 29 February
        anniversary = date(start.year + years, 3, 1)
    return anniversary - timedelta(days=1)


def check_dates(years: int, start: date, end: date | None) -> date:
    if years not in DURATIONS:
        raise DomainError("years.duration")
    default = derived_end(start, years)
    if end is None:
        return default
    if end > default or end < default - END_EARLIER_MAX:
        raise DomainError("years.end_range", earliest=default - END_EARLIER_MAX, latest=default)
    return end


async def _training_for(ctx: Ctx, actor: Actor, training_id: int) -> Training:
    training = await ctx.get(Training, training_id, lock=True)
    if actor.role is Role.TRAINEE:
        if training.account_id != actor.account_id:
            raise NotFound("training")
    else:
        require_base(actor, training.base_id)
    return training


async def set_years(
    ctx: Ctx, actor: Actor, training_id: int, years: int, start: date, end: date | None = None
) -> Training:
    """Set by the trainee or their base. A 1- or 2-year duration then needs a reduction."""
    training = await _training_for(ctx, actor, training_id)
    if TrainingStatus(training.status) is TrainingStatus.WITHDRAWN:
        raise DomainError("years.withdrawn")
    if training.reduction_applied_at is not None:
        raise DomainError("years.reduction_applied")
    in_review = await ctx.session.scalar(
        select(Reduction.id).where(
            Reduction.training_id == training_id,
            Reduction.status.in_([s.value for s in REVIEWING]),
        )
    )
    if in_review is not None:
        raise DomainError("years.reduction_in_review")
    app = await ctx.get(Application, training.application_id)
    if not app.cohort_year - 1 <= start.year <= app.cohort_year + 1:
        raise DomainError("years.start_range", year=app.cohort_year)
    end = check_dates(years, start, end)
    before = f"{training.duration_years}:{training.start_date}:{training.end_date}"
    training.duration_years, training.start_date, training.end_date = years, start, end
    training.updated_by = actor.account_id
    training.updated_at = ctx.now()
    audit(
        ctx,
        actor,
        "training",
        training.id or 0,
        "set_years",
        from_state=before,
        to_state=f"{years}:{start}:{end}",
    )
    if actor.role is Role.BASE:
        await notify(
            ctx, training.account_id, "years_set", f"training:{training.id}", occurrence=ctx.now()
        )
    return training


# --- reductions -----------------------------------------------------------------------------


async def start_reduction(ctx: Ctx, actor: Actor, training_id: int) -> Reduction:
    """Only a 1- or 2-year duration can be reduced; one request at a time."""
    require_role(actor, Role.TRAINEE)
    training = await _training_for(ctx, actor, training_id)
    if training.duration_years not in (1, 2):
        raise DomainError("reduction.only_short", years=training.duration_years)
    existing = await ctx.session.scalar(
        select(Reduction).where(
            Reduction.training_id == training_id, Reduction.status != ReductionStatus.APPLIED
        )
    )
    if existing is not None:
        return existing
    if training.reduction_applied_at is not None:
        raise DomainError("reduction.already_applied")
    base = await ctx.get(Base, training.base_id)
    row = Reduction(
        training_id=training_id,
        base_id=training.base_id,
        city_id=base.city_id,
        years=training.duration_years,
        status=ReductionStatus.DRAFT,
        created_at=ctx.now(),
        updated_at=ctx.now(),
    )
    ctx.session.add(row)
    await ctx.session.flush()
    audit(ctx, actor, "reduction", row.id or 0, "start", to_state="draft")
    return row


async def _reduction(ctx: Ctx, reduction_id: int) -> tuple[Reduction, Training]:
    row = await ctx.get(Reduction, reduction_id, lock=True)
    return row, await ctx.get(Training, row.training_id)


async def attach(
    ctx: Ctx, actor: Actor, reduction_id: int, kind: DocumentKind | str, filename: str, data: bytes
) -> Document:
    """The trainee adds the form and evidence while drafting; the base adds the hospital's proof
    while the request is at the base. Files are checked to be real, unencrypted PDFs."""
    row, training = await _reduction(ctx, reduction_id)
    kind = DocumentKind(kind)
    if kind is DocumentKind.HOSPITAL_PROOF:
        require_base(actor, row.base_id)
        if ReductionStatus(row.status) is not ReductionStatus.AT_BASE:
            raise DomainError("reduction.wrong_step", status=row.status)
    else:
        if actor.role is not Role.TRAINEE or training.account_id != actor.account_id:
            raise NotFound("reduction")
        if ReductionStatus(row.status) not in (ReductionStatus.DRAFT, ReductionStatus.SENT_BACK):
            raise DomainError("reduction.wrong_step", status=row.status)
    await check_pdf_off_loop(data, ctx.max_upload_bytes)
    digest, rel = files.store(ctx.upload_dir, data)
    doc = Document(
        reduction_id=reduction_id,
        kind=kind,
        filename=safe_filename(filename),
        sha256=digest,
        size=len(data),
        path=rel,
        uploaded_by=actor.account_id,
        uploaded_at=ctx.now(),
    )
    ctx.session.add(doc)
    await ctx.session.flush()
    audit(ctx, actor, "reduction", reduction_id, "attach", kind=kind.value, sha256=digest)
    return doc


async def documents(ctx: Ctx, reduction_id: int) -> list[Document]:
    rows = await ctx.session.scalars(
        select(Document).where(Document.reduction_id == reduction_id).order_by(Document.id)
    )
    return list(rows.all())


async def submit_reduction(ctx: Ctx, actor: Actor, reduction_id: int) -> Reduction:
    row, training = await _reduction(ctx, reduction_id)
    if actor.role is not Role.TRAINEE or training.account_id != actor.account_id:
        raise NotFound("reduction")
    if ReductionStatus(row.status) not in (ReductionStatus.DRAFT, ReductionStatus.SENT_BACK):
        raise DomainError("reduction.wrong_step", status=row.status)
    kinds = {DocumentKind(d.kind) for d in await documents(ctx, reduction_id)}
    for needed in (DocumentKind.REDUCTION_FORM, DocumentKind.EVIDENCE):
        if needed not in kinds:
            raise DomainError("reduction.missing_document", kind=needed.value)
    before = str(row.status)
    row.status = ReductionStatus.AT_BASE
    row.sent_back_by = row.sent_back_reason = None
    row.updated_at = ctx.now()
    audit(ctx, actor, "reduction", row.id or 0, "submit", from_state=before, to_state="at_base")
    return row


_NEXT = {
    ReductionStatus.AT_BASE: ReductionStatus.AT_CITY,
    ReductionStatus.AT_CITY: ReductionStatus.AT_PROVINCE,
    ReductionStatus.AT_PROVINCE: ReductionStatus.APPLIED,
}


async def review_reduction(
    ctx: Ctx, actor: Actor, reduction_id: int, approve: bool, reason: str | None = None
) -> Reduction:
    """One level of the chain approves (it moves on) or sends it back with a reason. The
    province's approval applies the reduction by itself."""
    row, training = await _reduction(ctx, reduction_id)
    status = ReductionStatus(row.status)
    if status is ReductionStatus.AT_BASE:
        require_base(actor, row.base_id)
    elif status is ReductionStatus.AT_CITY:
        require_role(actor, Role.CITY)
        require_city_or_province(actor, row.city_id)
    elif status is ReductionStatus.AT_PROVINCE:
        require_role(actor, Role.PROVINCE)
    else:
        raise DomainError("reduction.wrong_step", status=row.status)
    now = ctx.now()
    subject = f"reduction:{row.id}"
    if not approve:
        text = clean(
            reason,
            limit=column_limit(Reduction, "sent_back_reason"),
            field="reason",
            required=False,
            multiline=True,
        )
        if not text:
            raise DomainError("reason.required")
        row.status = ReductionStatus.SENT_BACK
        row.sent_back_by = actor.role.value
        row.sent_back_reason = text
        row.updated_at = now
        audit(
            ctx,
            actor,
            "reduction",
            row.id or 0,
            "send_back",
            from_state=status.value,
            to_state="sent_back",
            reason=text,
        )
        await notify(
            ctx,
            training.account_id,
            "reduction_sent_back",
            subject,
            occurrence=now,
            level=actor.role.value,
        )
        return row
    if status is ReductionStatus.AT_BASE:
        kinds = {DocumentKind(d.kind) for d in await documents(ctx, reduction_id)}
        if DocumentKind.HOSPITAL_PROOF not in kinds:
            raise DomainError("reduction.missing_document", kind=DocumentKind.HOSPITAL_PROOF.value)
    row.status = _NEXT[status]
    row.updated_at = now
    audit(
        ctx,
        actor,
        "reduction",
        row.id or 0,
        "approve",
        from_state=status.value,
        to_state=str(row.status),
    )
    if row.status == ReductionStatus.APPLIED:
        training.reduction_applied_at = now
        training.updated_at = now
        audit(
            ctx,
            None,
            "training",
            training.id or 0,
            "reduction_applied",
            to_state=f"{training.duration_years}y",
        )
    await notify(
        ctx,
        training.account_id,
        "reduction_progress",
        subject,
        occurrence=now,
        status=str(row.status),
    )
    return row
