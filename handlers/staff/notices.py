"""Renderers of the notices base staff receive, from fresh data at send time, in the staff
member's language; and the text of `pre_admission_cancelled` (a trainee notice this feature
added to the workflow). Registered on import."""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup
from sqlalchemy import select

from bot.i18n import Translator
from bot.notices import Rendered, register
from handlers.staff.callbacks import AppCb, ChgCb, PlanCb
from handlers.staff.common import button
from storage.models import (
    AllocationOffer,
    Application,
    Base,
    Batch,
    ChangeRequest,
    OutboxMessage,
    Plan,
    Specialty,
    TraineeProfile,
)
from workflow.context import Ctx
from workflow.queues import View


def _id(row: OutboxMessage) -> int:
    return int((row.subject or "x:0").split(":", 1)[1])


async def _app_facts(ctx: Ctx, app_id: int) -> tuple[str, str, str] | None:
    found = (
        await ctx.session.execute(
            select(TraineeProfile.name, Specialty.name, Batch.name)
            .select_from(Application)
            .join(TraineeProfile, TraineeProfile.account_id == Application.account_id)
            .join(Batch, Batch.id == Application.batch_id)
            .outerjoin(Specialty, Specialty.id == Application.specialty_id)
            .where(Application.id == app_id)
        )
    ).first()
    if found is None:
        return None
    name, spec, batch = found
    return name, spec or "—", batch


def _open(i18n: Translator, app_id: int, kind: View) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [button(i18n("staff.notice.open"), AppCb(act="open", id=app_id, kind=kind.value))]
        ]
    )


def _app_notice(key: str, view: View):  # type: ignore[no-untyped-def]
    async def render(ctx: Ctx, row: OutboxMessage, i18n: Translator) -> Rendered | None:
        app_id = _id(row)
        facts = await _app_facts(ctx, app_id)
        if facts is None:
            return None
        name, spec, batch = facts
        text = i18n(f"staff.notice.{key}", id=app_id, name=name, specialty=spec, batch=batch)
        return Rendered(text, _open(i18n, app_id, view))

    return render


register("base_result_confirmed")(_app_notice("result_confirmed", View.CHK))
register("base_result_accepted")(_app_notice("result_accepted", View.ADM))
register("base_result_declined")(_app_notice("result_declined", View.ADM))


@register("base_allocation_accepted")
async def allocation_accepted(ctx: Ctx, row: OutboxMessage, i18n: Translator) -> Rendered | None:
    offer = await ctx.session.get(AllocationOffer, _id(row))
    if offer is None:
        return None
    facts = await _app_facts(ctx, offer.application_id)
    site = await ctx.session.scalar(select(Base.name).where(Base.id == offer.site_id))
    if facts is None:
        return None
    name, spec, batch = facts
    text = i18n(
        "staff.notice.allocation_accepted",
        id=offer.application_id,
        name=name,
        specialty=spec,
        site=site or "—",
        batch=batch,
    )
    return Rendered(text, _open(i18n, offer.application_id, View.ADM))


@register("base_change_decided")
async def change_decided(ctx: Ctx, row: OutboxMessage, i18n: Translator) -> Rendered | None:
    change = await ctx.session.get(ChangeRequest, _id(row))
    if change is None:
        return None
    name = await ctx.session.scalar(
        select(TraineeProfile.name)
        .join(Application, Application.account_id == TraineeProfile.account_id)
        .where(Application.id == change.application_id)
    )
    key = "change_approved" if change.status == "approved" else "change_refused"
    text = i18n(
        f"staff.notice.{key}",
        id=change.id,
        name=name or "—",
        kind=i18n(f"staff.lbl.change.{change.kind}"),
        reason=change.reason or "—",
    )
    markup = InlineKeyboardMarkup(
        inline_keyboard=[[button(i18n("staff.notice.open"), ChgCb(op="open", id=change.id or 0))]]
    )
    return Rendered(text, markup)


@register("base_plan_decided")
async def plan_decided(ctx: Ctx, row: OutboxMessage, i18n: Translator) -> Rendered | None:
    found = (
        await ctx.session.execute(
            select(Plan, Batch.name, Specialty.name)
            .join(Batch, Batch.id == Plan.batch_id)
            .join(Specialty, Specialty.id == Plan.specialty_id)
            .where(Plan.id == _id(row))
        )
    ).first()
    if found is None:
        return None
    plan, batch, spec = found
    text = i18n(
        "staff.notice.plan_decided",
        batch=batch,
        specialty=spec,
        declared="—" if plan.declared is None else plan.declared,
        planned=plan.planned,
        status=i18n(f"staff.lbl.plan.{plan.status}"),
        reason=plan.reason or "—",
    )
    markup = InlineKeyboardMarkup(
        inline_keyboard=[
            [button(i18n("staff.notice.open_plans"), PlanCb(op="open", batch=plan.batch_id))]
        ]
    )
    return Rendered(text, markup)
