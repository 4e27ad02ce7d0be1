"""How the workflow's notices to a trainee read. Each is rendered when it is sent, from fresh
data: a notice about an application carries its status card (so the trainee sees the new state
without asking), and one whose subject moved on since it was queued is skipped (None)."""

from __future__ import annotations

from datetime import datetime

from aiogram.types import InlineKeyboardMarkup

from bot.i18n import Translator
from bot.notice_buttons import calendar_button
from bot.notices import Rendered, register
from handlers.trainee import status as status_card
from handlers.trainee.cb import StatusCb, YearsCb
from handlers.trainee.ui import button, markup, specialty_name
from storage.models import (
    Account,
    AllocationOffer,
    Application,
    Base,
    Reduction,
    Specialty,
    Training,
)
from storage.models import OutboxMessage as Row
from workflow.actor import Actor
from workflow.context import Ctx
from workflow.enums import ApplicationStatus as S
from workflow.enums import OfferStatus

_CARD_BUTTON = "trainee.notice.show_status"


def _id(row: Row, prefix: str) -> int | None:
    kind, _, ident = (row.subject or "").partition(":")
    return int(ident) if kind == prefix and ident.isdigit() else None


async def _app(ctx: Ctx, row: Row) -> tuple[Application, Actor] | None:
    app_id = _id(row, "application")
    app = await ctx.session.get(Application, app_id) if app_id else None
    if app is None:
        return None
    return app, Actor.of(await ctx.get(Account, app.account_id))


async def _with_card(
    ctx: Ctx,
    i18n: Translator,
    app: Application,
    actor: Actor,
    text: str,
    kb: InlineKeyboardMarkup | None = None,
) -> Rendered:
    body = text + "\n\n" + await status_card.card_text(ctx, actor, i18n, app)
    if kb is None:
        kb = markup([button(i18n(_CARD_BUTTON), StatusCb(a="show"))])
    return Rendered(body, kb)


def _application_notice(kind: str, *, only_in: tuple[S, ...] | None = None) -> None:
    """A plain notice about an application: its text, then its card."""

    async def render(ctx: Ctx, row: Row, i18n: Translator) -> Rendered | None:
        found = await _app(ctx, row)
        if found is None:
            return None
        app, actor = found
        if only_in is not None and S(app.status) not in only_in:
            return None
        return await _with_card(ctx, i18n, app, actor, i18n(f"trainee.notice.{kind}"))

    register(kind)(render)


_application_notice("pre_admitted", only_in=(S.PRE_ADMITTED, S.ADMITTED))
_application_notice("not_admitted", only_in=(S.NOT_ADMITTED,))
_application_notice("result_cancelled")
_application_notice("result_expired", only_in=(S.EXPIRED,))
_application_notice("result_confirmed")


@register("result_sent")
async def result_sent(ctx: Ctx, row: Row, i18n: Translator) -> Rendered | None:
    found = await _app(ctx, row)
    if found is None:
        return None
    app, actor = found
    if S(app.status) not in (S.SENT, S.ACCEPTABLE) or app.acceptable_at is None:
        return None  # cancelled since
    queued = (row.payload or {}).get("acceptable_at")
    if queued and datetime.fromisoformat(queued) != app.acceptable_at:
        return None  # cancelled and sent again: the newer notice says it
    text = i18n("trainee.notice.result_sent", start=app.acceptable_at, end=app.deadline_at)
    # The answer has a window: the moment to offer it to the phone's calendar.
    kb = markup([button(i18n(_CARD_BUTTON), StatusCb(a="show")), calendar_button(i18n)])
    return await _with_card(ctx, i18n, app, actor, text, kb)


@register("result_acceptable")
async def result_acceptable(ctx: Ctx, row: Row, i18n: Translator) -> Rendered | None:
    found = await _app(ctx, row)
    if found is None:
        return None
    app, actor = found
    if S(app.status) not in (S.SENT, S.ACCEPTABLE):
        return None  # answered or expired already
    now = ctx.now()
    buttons = status_card.result_buttons(i18n, app, now)
    text = i18n("trainee.notice.result_acceptable", start=app.acceptable_at, end=app.deadline_at)
    return await _with_card(ctx, i18n, app, actor, text, markup(*buttons) if buttons else None)


@register("checked_in")
async def checked_in(ctx: Ctx, row: Row, i18n: Translator) -> Rendered | None:
    found = await _app(ctx, row)
    if found is None:
        return None
    app, actor = found
    reported = bool((row.payload or {}).get("reported"))
    key = "trainee.notice.checked_in" if reported else "trainee.notice.not_checked_in"
    kb = markup([button(i18n("trainee.notice.to_years"), YearsCb(a="show"))]) if reported else None
    return await _with_card(ctx, i18n, app, actor, i18n(key), kb)


@register("allocation_offer")
async def allocation_offer(ctx: Ctx, row: Row, i18n: Translator) -> Rendered | None:
    offer_id = _id(row, "offer")
    offer = await ctx.session.get(AllocationOffer, offer_id) if offer_id else None
    if offer is None or OfferStatus(offer.status) is not OfferStatus.OFFERED:
        return None
    if ctx.now() > offer.expires_at:
        return None
    base = await ctx.session.get(Base, offer.base_id)
    site = await ctx.session.get(Base, offer.site_id)
    spec = await ctx.session.get(Specialty, offer.specialty_id)
    text = i18n(
        "trainee.notice.allocation_offer",
        specialty=specialty_name(i18n, spec),
        base=base.name if base else "—",
        site=site.name if site else "—",
        start=offer.offered_at,
        end=offer.expires_at,
    )
    return Rendered(text, markup(status_card.offer_buttons(i18n, offer.id or 0)))


@register("years_set")
async def years_set(ctx: Ctx, row: Row, i18n: Translator) -> Rendered | None:
    training_id = _id(row, "training")
    training = await ctx.session.get(Training, training_id) if training_id else None
    if training is None or training.duration_years is None:
        return None
    text = i18n(
        "trainee.notice.years_set",
        n=training.duration_years,
        start=training.start_date,
        end=training.end_date,
    )
    return Rendered(text, markup([button(i18n("trainee.notice.to_years"), YearsCb(a="show"))]))


@register("reduction_progress")
async def reduction_progress(ctx: Ctx, row: Row, i18n: Translator) -> Rendered | None:
    reduction_id = _id(row, "reduction")
    reduction = await ctx.session.get(Reduction, reduction_id) if reduction_id else None
    if reduction is None:
        return None
    status = (row.payload or {}).get("status") or reduction.status
    text = i18n("trainee.notice.reduction_progress", status=i18n.label("status", status))
    return Rendered(text, markup([button(i18n("trainee.notice.to_years"), YearsCb(a="red"))]))


@register("reduction_sent_back")
async def reduction_sent_back(ctx: Ctx, row: Row, i18n: Translator) -> Rendered | None:
    reduction_id = _id(row, "reduction")
    reduction = await ctx.session.get(Reduction, reduction_id) if reduction_id else None
    if reduction is None:
        return None
    text = i18n(
        "trainee.notice.reduction_sent_back",
        level=i18n.label("role", (row.payload or {}).get("level") or reduction.sent_back_by or ""),
        reason=reduction.sent_back_reason or "—",
    )
    return Rendered(text, markup([button(i18n("trainee.notice.to_years"), YearsCb(a="red"))]))


@register("change_decided")
async def change_decided(ctx: Ctx, row: Row, i18n: Translator) -> Rendered | None:
    payload = row.payload or {}
    key = (
        "trainee.notice.change_approved"
        if payload.get("approved")
        else "trainee.notice.change_refused"
    )
    change = payload.get("change") or ""
    text = i18n(
        key,
        change=i18n(f"trainee.notice.change_kind.{change}")
        if i18n.has(f"trainee.notice.change_kind.{change}")
        else change,
    )
    return Rendered(text, markup([button(i18n(_CARD_BUTTON), StatusCb(a="show"))]))
