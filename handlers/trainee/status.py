"""/status: the status card (batch, 报名状态, 信息完整状态, 报名周期, the choice, the result and
every open deadline with the time left, in Asia/Shanghai time), and the application form PDF.

The card message is remembered (StatusCard) and edited in place when the trainee's own action
changes what it shows; changes made by others arrive as notices that carry the card."""

from __future__ import annotations

from datetime import datetime

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)

from bot.application_form import render_pdf
from bot.durations import time_left
from bot.i18n import Translator
from bot.notice_buttons import OfferAction, calendar_button, result_answer_row
from bot.unit import then
from handlers.trainee.cb import ApplyCb, ProfileCb, StatusCb
from handlers.trainee.env import Env, trainee_router
from handlers.trainee.form import application_form
from handlers.trainee.ui import button, markup, specialty_name
from handlers.trainee.views import batch_lines, choice_lines, names, result_line, row, status_label
from storage.models import Application, Base, Specialty, StatusCard
from workflow import profile, results, trainee_status
from workflow.actor import Actor
from workflow.completeness import MODULES
from workflow.context import Ctx
from workflow.enums import ApplicationStatus, OfferStatus
from workflow.errors import DomainError

# Statuses where the trainee has answered, or may answer, a sent result (志愿确认状态).
_ANSWER_STATE = {
    ApplicationStatus.SENT: "unanswered",
    ApplicationStatus.ACCEPTABLE: "unanswered",
    ApplicationStatus.ACCEPTED: "accepted",
    ApplicationStatus.CONFIRMED: "accepted",
    ApplicationStatus.DECLINED: "declined",
    ApplicationStatus.EXPIRED: "expired",
}


async def card_text(ctx: Ctx, actor: Actor, i18n: Translator, app: Application) -> str:
    """The card of one application."""
    n = await names(ctx, app)
    view = await profile.view(ctx, actor)
    now = ctx.now()
    status = ApplicationStatus(app.status)
    complete = "trainee.app.complete" if view.completeness.complete else "trainee.app.incomplete"
    lines = [
        *batch_lines(i18n, app, n)[:1],
        row(i18n, "trainee.app.status", status_label(i18n, app)),
        row(i18n, "trainee.app.completeness", i18n(complete)),
        *batch_lines(i18n, app, n)[1:],
        *choice_lines(i18n, app, n),
        result_line(i18n, app),
    ]
    if status is ApplicationStatus.NOT_ADMITTED and app.not_admitted_reason:
        lines.append(row(i18n, "trainee.app.reason", app.not_admitted_reason))
    if status in _ANSWER_STATE:
        lines.append(
            row(i18n, "trainee.app.answer", i18n(f"trainee.app.answer_{_ANSWER_STATE[status]}"))
        )
        lines.append(
            row(
                i18n,
                "trainee.app.confirm_period",
                i18n("trainee.app.range", start=app.acceptable_at, end=app.deadline_at),
            )
        )
    if app.checkin:
        lines.append(row(i18n, "trainee.app.checkin", i18n(f"trainee.app.checkin_{app.checkin}")))
    offers = await trainee_status.offers(ctx, app.id)  # type: ignore[arg-type]
    for offer in offers:
        if OfferStatus(offer.status) is not OfferStatus.OFFERED:
            continue
        base = await ctx.session.get(Base, offer.base_id)
        site = await ctx.session.get(Base, offer.site_id)
        spec = await ctx.session.get(Specialty, offer.specialty_id)
        lines.append(
            i18n(
                "trainee.status.offer",
                specialty=specialty_name(i18n, spec),
                base=base.name if base else "—",
                site=site.name if site else "—",
                end=offer.expires_at,
            )
        )
    deadlines = trainee_status.open_deadlines(app, n.batch, offers, now)
    if deadlines:
        lines.append(i18n("trainee.status.deadlines"))
        for d in deadlines:
            lines.append(
                i18n(
                    "trainee.status.deadline_line",
                    what=i18n(f"trainee.status.deadline.{d.kind}"),
                    at=d.at,
                    left=time_left(i18n, d.at - now),
                )
            )
    if status is ApplicationStatus.DRAFT:
        lines.append(i18n("trainee.status.not_submitted"))
    return "\n".join(lines)


async def card(ctx: Ctx, actor: Actor, i18n: Translator) -> tuple[str, InlineKeyboardMarkup]:
    """The whole card: every application of the trainee, newest first, with its buttons."""
    apps = await trainee_status.applications(ctx, actor)
    now = ctx.now()
    title = i18n("trainee.status.title", now=now)
    if not apps:
        view = await profile.view(ctx, actor)
        text = "\n".join(
            [
                title,
                i18n("trainee.status.none", done=view.completeness.done_count, total=len(MODULES)),
            ]
        )
        kb = markup(
            [button(i18n("trainee.status.apply"), ApplyCb(a="batches"))],
            [button(i18n("trainee.status.profile"), ProfileCb(a="menu"))],
        )
        return text, kb
    parts = [title]
    rows = []
    many = len(apps) > 1
    for app in apps:
        batch_name = (await names(ctx, app)).batch.name
        parts.append(await card_text(ctx, actor, i18n, app))
        suffix = f" · {batch_name}" if many else ""
        rows += result_buttons(i18n, app, now, suffix)
        for offer in await trainee_status.offers(ctx, app.id):  # type: ignore[arg-type]
            if OfferStatus(offer.status) is OfferStatus.OFFERED and now <= offer.expires_at:
                rows.append(offer_buttons(i18n, offer.id or 0))
        if ApplicationStatus(app.status) is ApplicationStatus.DRAFT:
            rows.append(
                [
                    button(
                        i18n("trainee.status.resume") + suffix, ApplyCb(a="resume", app=app.id or 0)
                    )
                ]
            )
        else:
            rows.append(
                [button(i18n("trainee.status.print") + suffix, StatusCb(a="pdf", app=app.id or 0))]
            )
    rows.append([calendar_button(i18n)])
    rows.append([button(i18n("trainee.status.refresh"), StatusCb(a="show"))])
    return "\n\n".join(parts), markup(*rows)


def result_buttons(
    i18n: Translator, app: Application, now: datetime, suffix: str = ""
) -> list[list[InlineKeyboardButton]]:
    """Accept and decline exist only while the result can be answered."""
    if app.acceptable_at is None or not results.can_answer(app, None, now):  # type: ignore[arg-type]
        return []
    return [result_answer_row(i18n, app.id or 0, suffix)]


def offer_buttons(i18n: Translator, offer_id: int) -> list[InlineKeyboardButton]:
    return [
        button(i18n("trainee.offer.accept"), OfferAction(action="accept", offer_id=offer_id)),
        button(i18n("trainee.offer.refuse"), OfferAction(action="refuse", offer_id=offer_id)),
    ]


async def remember(ctx: Ctx, account_id: int, chat_id: int, message_id: int) -> None:
    row_ = await ctx.session.get(StatusCard, account_id)
    if row_ is None:
        row_ = StatusCard(account_id=account_id, chat_id=chat_id, message_id=message_id)
        ctx.session.add(row_)
    row_.chat_id, row_.message_id, row_.updated_at = chat_id, message_id, ctx.now()


async def is_card(ctx: Ctx, actor: Actor, message: object) -> bool:
    """Whether a message is the remembered status card."""
    row_ = await ctx.session.get(StatusCard, actor.account_id)
    return (
        row_ is not None
        and isinstance(message, Message)
        and (message.chat.id, message.message_id) == (row_.chat_id, row_.message_id)
    )


async def refresh(bot: Bot, ctx: Ctx, actor: Actor, i18n: Translator) -> None:
    """Edit the remembered card to what it shows now (after the trainee's own change)."""
    row_ = await ctx.session.get(StatusCard, actor.account_id)
    if row_ is None:
        return
    text, kb = await card(ctx, actor, i18n)
    # Unchanged is fine; a card gone from the chat comes back as a new message (bot/unit.py).
    await bot.edit_message_text(
        text, chat_id=row_.chat_id, message_id=row_.message_id, reply_markup=kb
    )


def build_router() -> Router:
    router = trainee_router(name="trainee-status")

    async def send_card(chat_id: int, env: Env) -> None:
        actor, services = env.actor, env.services
        text, kb = await card(env.ctx, actor, env.i18n)

        async def remember_sent(sent: Message) -> None:
            async with services.db.transaction() as session:
                await remember(services.ctx(session), actor.account_id, chat_id, sent.message_id)

        await then(env.bot.send_message(chat_id, text, reply_markup=kb), remember_sent)

    @router.message(Command("status"))
    async def status_command(message: Message, env: Env) -> None:
        await send_card(message.chat.id, env)

    @router.callback_query(StatusCb.filter(F.a == "show"))
    async def show_card(query: CallbackQuery, env: Env) -> None:
        await query.answer()
        if await is_card(env.ctx, env.actor, query.message):
            await refresh(env.bot, env.ctx, env.actor, env.i18n)  # 🔄 on the card: the card itself
        else:
            await send_card(query.from_user.id, env)

    @router.callback_query(StatusCb.filter(F.a == "pdf"))
    async def print_form(query: CallbackQuery, callback_data: StatusCb, env: Env) -> None:
        i18n = env.i18n
        app = await trainee_status.own_application(env.ctx, env.actor, callback_data.app)
        if ApplicationStatus(app.status) is ApplicationStatus.DRAFT:
            raise DomainError("app.step_missing", step="review")
        form = await application_form(env.ctx, env.actor, i18n, app)
        data = render_pdf(form)
        await query.answer(i18n("trainee.status.printing"))
        name = f"application-{app.id}.pdf"
        await env.bot.send_document(
            query.from_user.id,
            BufferedInputFile(data, filename=name),
            caption=i18n("trainee.status.form_caption", batch=form.subtitle),
        )

    return router
