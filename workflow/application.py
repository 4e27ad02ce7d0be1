"""学员报名: the six-step wizard, its draft, and the irreversible submit."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from storage.models import Account, Application, Base, Batch, Specialty, WorkRecord
from workflow import catalog
from workflow.actor import Actor, require_self
from workflow.audit import audit
from workflow.completeness import check_personnel_type
from workflow.context import Ctx
from workflow.enums import ApplicationStatus, BaseKind, PersonnelType, Program
from workflow.errors import DomainError, NotFound
from workflow.profile import load as load_profile
from workflow.text import digits

# The wizard's steps, in order (the guide's six, with step 5 split for chat buttons).
STEPS = (
    "batch",
    "personnel_type",
    "confirm_info",
    "supplement",
    "specialty",
    "base",
    "site",
    "reassignment",
    "review",
)
SUPPLEMENT_FIELDS = ("fresh_graduate", "has_qualification", "qualification_no")
QUALIFICATION_NO = re.compile(r"[0-9A-Za-z]{8,30}")


async def my_application(ctx: Ctx, actor: Actor, batch_id: int | None = None) -> Application | None:
    """The trainee's application to a batch, or the most recent one."""
    require_self(actor, actor.account_id)
    stmt = select(Application).where(Application.account_id == actor.account_id)
    if batch_id is not None:
        stmt = stmt.where(Application.batch_id == batch_id)
    stmt = stmt.order_by(Application.created_at.desc(), Application.id.desc())
    return (await ctx.session.scalars(stmt)).first()


async def _own_draft(ctx: Ctx, actor: Actor, application_id: int) -> tuple[Application, Batch]:
    require_self(actor, actor.account_id)
    app = await ctx.get(Application, application_id, lock=True)
    if app.account_id != actor.account_id:
        raise NotFound("application")
    if app.status != ApplicationStatus.DRAFT:
        raise DomainError("app.submitted_locked")
    batch = await ctx.get(Batch, app.batch_id)
    if not catalog.batch_is_open(batch, ctx.now()):
        raise DomainError(
            "app.batch_closed", start=batch.apply_start, end=batch.apply_end, batch=batch.name
        )
    return app, batch


def _advance(app: Application, step: str) -> None:
    app.step = step


async def start(ctx: Ctx, actor: Actor, batch_id: int) -> Application:
    """Step 1: choose a batch open now, of the trainee's program. Resumes an existing draft."""
    require_self(actor, actor.account_id)
    account = await ctx.get(Account, actor.account_id)
    batch = await ctx.get(Batch, batch_id)
    if account.program is not None and Program(batch.program) != Program(account.program):
        raise DomainError("app.wrong_program", program=batch.program)
    types = await catalog.batch_types(ctx, batch_id)
    if not catalog.batch_is_open(batch, ctx.now()) or not types:
        raise DomainError(
            "app.batch_closed", start=batch.apply_start, end=batch.apply_end, batch=batch.name
        )
    view = await load_profile(ctx, actor.account_id)
    if not view.completeness.complete:
        raise DomainError("app.profile_incomplete", missing=view.completeness.problems[0].code)
    existing = await my_application(ctx, actor, batch_id)
    if existing is not None:
        return existing
    app = Application(
        account_id=actor.account_id,
        batch_id=batch_id,
        cohort_year=batch.cohort_year,
        status=ApplicationStatus.DRAFT,
        step="personnel_type",
        created_at=ctx.now(),
        updated_at=ctx.now(),
    )
    try:
        async with ctx.session.begin_nested():
            ctx.session.add(app)
    except IntegrityError:  # a double press created it a moment ago
        existing = await my_application(ctx, actor, batch_id)
        if existing is None:
            raise
        return existing
    audit(ctx, actor, "application", app.id or 0, "draft_started", to_state="draft")
    return app


async def choose_personnel_type(
    ctx: Ctx, actor: Actor, application_id: int, personnel_type: PersonnelType | str
) -> Application:
    """Step 2: the type must be one the batch applies to, and fit the work module."""
    app, _batch = await _own_draft(ctx, actor, application_id)
    try:
        ptype = PersonnelType(personnel_type)
    except ValueError as exc:
        raise DomainError("field.choice", field="personnel_type") from exc
    if ptype not in await catalog.batch_types(ctx, app.batch_id):
        raise DomainError("app.type_not_in_batch", personnel_type=ptype.value)
    view = await load_profile(ctx, actor.account_id)
    check_personnel_type(ptype, view.profile.has_work_unit, view.work)
    app.personnel_type = ptype
    _advance(app, "confirm_info")
    app.updated_at = ctx.now()
    return app


async def confirm_info(ctx: Ctx, actor: Actor, application_id: int) -> Application:
    """Step 3: the trainee confirmed the personal information shown (after any edits)."""
    app, _ = await _own_draft(ctx, actor, application_id)
    view = await load_profile(ctx, actor.account_id)
    if not view.completeness.complete:
        raise DomainError("app.profile_incomplete", missing=view.completeness.problems[0].code)
    _advance(app, "supplement")
    app.updated_at = ctx.now()
    return app


def check_supplement(data: dict[str, Any]) -> dict[str, Any]:
    unknown = set(data) - set(SUPPLEMENT_FIELDS)
    if unknown:
        raise DomainError("field.unknown", field=sorted(unknown)[0])
    out: dict[str, Any] = {}
    for key in ("fresh_graduate", "has_qualification"):
        if key in data:
            if not isinstance(data[key], bool):
                raise DomainError("field.choice", field=key)
            out[key] = data[key]
    if data.get("qualification_no"):
        number = digits(data["qualification_no"])
        if not QUALIFICATION_NO.fullmatch(number):
            raise DomainError("supplement.qualification_no")
        out["qualification_no"] = number
    return out


async def save_supplement(
    ctx: Ctx, actor: Actor, application_id: int, data: dict[str, Any]
) -> Application:
    """Step 4: supplementary information, after the batch's notes. Saved field by field."""
    app, _ = await _own_draft(ctx, actor, application_id)
    app.supplement = {**(app.supplement or {}), **check_supplement(data)}
    if app.supplement.get("has_qualification") is False:
        app.supplement.pop("qualification_no", None)
    app.updated_at = ctx.now()
    return app


def supplement_complete(supplement: dict[str, Any]) -> bool:
    if "fresh_graduate" not in supplement or "has_qualification" not in supplement:
        return False
    return not supplement["has_qualification"] or bool(supplement.get("qualification_no"))


async def finish_supplement(ctx: Ctx, actor: Actor, application_id: int) -> Application:
    app, _ = await _own_draft(ctx, actor, application_id)
    if not supplement_complete(app.supplement or {}):
        raise DomainError("supplement.incomplete")
    _advance(app, "specialty")
    app.updated_at = ctx.now()
    return app


async def choose_specialty(
    ctx: Ctx, actor: Actor, application_id: int, specialty_id: int
) -> Application:
    """Step 5a: one intended specialty (拟培训专业) of the batch's program with a plan."""
    app, batch = await _own_draft(ctx, actor, application_id)
    spec = await ctx.session.get(Specialty, specialty_id)
    if spec is None or Program(spec.program) != Program(batch.program):
        raise NotFound("specialty")
    if spec.id not in {s.id for s in await catalog.specialties_with_plans(ctx, batch.id)}:  # type: ignore[arg-type]
        raise DomainError("app.no_plan_for_specialty")
    if app.intended_specialty_id != specialty_id:
        # Another specialty voids the choice made for the previous one.
        app.specialty_id = app.base_id = app.site_id = None
    app.intended_specialty_id = specialty_id
    _advance(app, "base")
    app.updated_at = ctx.now()
    return app


async def choose_base(ctx: Ctx, actor: Actor, application_id: int, base_id: int) -> Application:
    """Step 5b: the national base; it must plan to take the intended specialty."""
    app, batch = await _own_draft(ctx, actor, application_id)
    if app.intended_specialty_id is None:
        raise DomainError("app.step_missing", step="specialty")
    base = await ctx.session.get(Base, base_id)
    if base is None or base.kind != BaseKind.NATIONAL:
        raise NotFound("base")
    if await catalog.plan_for(ctx, batch.id, base_id, app.intended_specialty_id) is None:  # type: ignore[arg-type]
        raise DomainError("app.no_plan_at_base")
    app.base_id = base_id
    app.site_id = None
    _advance(app, "site")
    app.updated_at = ctx.now()
    return app


async def choose_site(ctx: Ctx, actor: Actor, application_id: int, site_id: int) -> Application:
    """Step 5c: a local base of that national base. The choice's specialty is the intended one."""
    app, _ = await _own_draft(ctx, actor, application_id)
    if app.base_id is None:
        raise DomainError("app.step_missing", step="base")
    site = await ctx.session.get(Base, site_id)
    if site is None or site.parent_id != app.base_id:
        raise NotFound("base")
    app.site_id = site_id
    app.specialty_id = app.intended_specialty_id
    _advance(app, "reassignment")
    app.updated_at = ctx.now()
    return app


async def set_reassignment(
    ctx: Ctx, actor: Actor, application_id: int, accept: bool
) -> Application:
    """是否接受专业调剂."""
    app, _ = await _own_draft(ctx, actor, application_id)
    app.accept_reassignment = bool(accept)
    _advance(app, "review")
    app.updated_at = ctx.now()
    return app


async def go_to_step(ctx: Ctx, actor: Actor, application_id: int, step: str) -> Application:
    """Back buttons: return to an earlier step without losing any answer."""
    app, _ = await _own_draft(ctx, actor, application_id)
    if step not in STEPS or STEPS.index(step) > STEPS.index(app.step):
        raise DomainError("app.step_missing", step=step)
    app.step = step
    return app


def missing_steps(app: Application) -> list[str]:
    missing = []
    if app.personnel_type is None:
        missing.append("personnel_type")
    if not supplement_complete(app.supplement or {}):
        missing.append("supplement")
    if app.intended_specialty_id is None:
        missing.append("specialty")
    if app.base_id is None:
        missing.append("base")
    if app.site_id is None:
        missing.append("site")
    if app.accept_reassignment is None:
        missing.append("reassignment")
    return missing


async def submit(ctx: Ctx, actor: Actor, application_id: int) -> Application:
    """Step 6: submit. Everything is checked once more; after this nothing can be changed."""
    app, batch = await _own_draft(ctx, actor, application_id)
    missing = missing_steps(app)
    if missing:
        raise DomainError("app.step_missing", step=missing[0])
    if app.specialty_id != app.intended_specialty_id:
        raise DomainError("app.choice_specialty_mismatch")
    view = await load_profile(ctx, actor.account_id)
    if not view.completeness.complete:
        raise DomainError("app.profile_incomplete", missing=view.completeness.problems[0].code)
    assert app.personnel_type is not None
    if app.personnel_type not in await catalog.batch_types(ctx, batch.id):  # type: ignore[operator]
        raise DomainError("app.type_not_in_batch", personnel_type=app.personnel_type)
    check_personnel_type(app.personnel_type, view.profile.has_work_unit, view.work)
    if await catalog.plan_for(ctx, batch.id, app.base_id, app.specialty_id) is None:  # type: ignore[arg-type]
        raise DomainError("app.no_plan_at_base")
    app.status = ApplicationStatus.SUBMITTED
    app.submitted_at = app.updated_at = ctx.now()
    app.step = "done"
    audit(
        ctx, actor, "application", app.id or 0, "submit", from_state="draft", to_state="submitted"
    )
    return app


async def current_work_unit(ctx: Ctx, account_id: int) -> str | None:
    """选送单位: the current work unit, for own-unit and entrusted trainees."""
    return await ctx.session.scalar(
        select(WorkRecord.unit_name).where(
            WorkRecord.account_id == account_id, WorkRecord.is_current
        )
    )
