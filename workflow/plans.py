"""招生计划申报: a base declares its numbers, the province approves or adjusts them, all before
the batch opens."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import Batch, Plan, Specialty
from workflow.actor import Actor, require_role
from workflow.audit import audit
from workflow.context import Ctx
from workflow.enums import PlanStatus, Program, Role
from workflow.errors import DomainError, NotFound
from workflow.notices import notify_base_staff
from workflow.text import clean, column_limit

MAX_PLANNED = 999


def _number(n: int) -> int:
    if not isinstance(n, int) or isinstance(n, bool) or not 0 <= n <= MAX_PLANNED:
        raise DomainError("plan.number", max=MAX_PLANNED)
    return n


def _before_open(ctx: Ctx, batch: Batch) -> None:
    if ctx.now() >= batch.apply_start:
        raise DomainError("plan.batch_open", start=batch.apply_start)


async def declare(ctx: Ctx, actor: Actor, batch_id: int, specialty_id: int, number: int) -> Plan:
    require_role(actor, Role.BASE)
    assert actor.base_id is not None
    batch = await ctx.get(Batch, batch_id)
    _before_open(ctx, batch)
    spec = await ctx.session.get(Specialty, specialty_id)
    if spec is None or Program(spec.program) != Program(batch.program):
        raise NotFound("specialty")
    number = _number(number)
    plan = await ctx.session.scalar(
        select(Plan)
        .where(
            Plan.batch_id == batch_id,
            Plan.base_id == actor.base_id,
            Plan.specialty_id == specialty_id,
        )
        .with_for_update()
    )
    if plan is None:
        plan = Plan(batch_id=batch_id, base_id=actor.base_id, specialty_id=specialty_id, planned=0)
        ctx.session.add(plan)
    before = str(plan.status) if plan.id else None
    plan.declared = number
    plan.status = PlanStatus.DECLARED
    plan.reason = None
    plan.declared_by = actor.account_id
    plan.declared_at = ctx.now()
    await ctx.session.flush()
    audit(
        ctx,
        actor,
        "plan",
        plan.id or 0,
        "declare",
        from_state=before,
        to_state="declared",
        number=number,
    )
    return plan


async def decide(
    ctx: Ctx, actor: Actor, plan_id: int, number: int | None = None, reason: str | None = None
) -> Plan:
    """Approve the declared number, or adjust it (another number needs a reason)."""
    require_role(actor, Role.PROVINCE)
    plan = await ctx.get(Plan, plan_id, lock=True)
    batch = await ctx.get(Batch, plan.batch_id)
    _before_open(ctx, batch)
    if plan.status != PlanStatus.DECLARED or plan.declared is None:
        raise DomainError("plan.not_declared")
    final = plan.declared if number is None else _number(number)
    text = clean(
        reason,
        limit=column_limit(Plan, "reason"),
        field="reason",
        required=False,
        multiline=True,
    )
    if final != plan.declared and not text:
        raise DomainError("reason.required")
    plan.planned = final
    plan.status = PlanStatus.APPROVED if final == plan.declared else PlanStatus.ADJUSTED
    plan.reason = text or None
    plan.decided_by = actor.account_id
    plan.decided_at = ctx.now()
    audit(
        ctx,
        actor,
        "plan",
        plan.id or 0,
        "decide",
        from_state="declared",
        to_state=str(plan.status),
        reason=plan.reason,
        number=final,
    )
    # The declaring base is told (staff consoles render `base_plan_decided`).
    await notify_base_staff(
        ctx, plan.base_id, "base_plan_decided", f"plan:{plan.id}", occurrence=ctx.now()
    )
    return plan
