"""/years — 培训年限管理 (the guide's §五): duration 1, 2 or 3 years and the start date after
check-in; the end date is derived (start + N years − 1 day) and may be set up to the workflow's
limit earlier, never later. A 1- or 2-year duration needs a reduction (减免): the reduction form and
the evidence uploaded as PDF files, then the review chain base → city → province."""

from __future__ import annotations

import io
from datetime import date

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from bot.i18n import Translator
from bot.keyboards import nav_row
from handlers.trainee.cb import YearsCb
from handlers.trainee.env import Env, trainee_router
from handlers.trainee.states import YearsInput
from handlers.trainee.ui import button, markup, not_command, show, specialty_name
from handlers.trainee.views import row
from storage.models import Application, Base, Batch, Reduction, Specialty, Training
from workflow import profile, trainee_status
from workflow import training as training_wf
from workflow.actor import Actor
from workflow.context import Ctx
from workflow.documents import check_declared
from workflow.enums import DocumentKind, ReductionStatus
from workflow.errors import DomainError

CHAIN = (
    ReductionStatus.DRAFT,
    ReductionStatus.AT_BASE,
    ReductionStatus.AT_CITY,
    ReductionStatus.AT_PROVINCE,
    ReductionStatus.APPLIED,
)
UPLOADS = (DocumentKind.REDUCTION_FORM, DocumentKind.EVIDENCE)


async def years_screen(
    ctx: Ctx, actor: Actor, i18n: Translator
) -> tuple[str, InlineKeyboardMarkup | None]:
    training = await trainee_status.own_training(ctx, actor)
    if training is None:
        return i18n("trainee.years.none"), None
    app = await ctx.get(Application, training.application_id)
    batch = await ctx.get(Batch, app.batch_id)
    base = await ctx.session.get(Base, training.base_id)
    spec = await ctx.session.get(Specialty, app.specialty_id) if app.specialty_id else None
    years = training.duration_years
    lines = [
        i18n("trainee.years.title"),
        row(i18n, "trainee.years.cohort", batch.cohort_year),
        row(i18n, "label.entity.base", base.name if base else "—"),
        row(i18n, "trainee.form.specialty", specialty_name(i18n, spec)),
        row(
            i18n,
            "trainee.years.duration",
            i18n("trainee.years.n_years", n=years) if years else i18n("trainee.years.unset"),
        ),
        row(i18n, "trainee.years.start", training.start_date or "—"),
        row(i18n, "trainee.years.end", training.end_date or "—"),
        row(i18n, "trainee.years.status", i18n(f"trainee.years.training_status.{training.status}")),
        "",
        i18n("trainee.years.rule", days=training_wf.END_EARLIER_MAX.days),
    ]
    reduction = await trainee_status.latest_reduction(ctx, training.id)  # type: ignore[arg-type]
    if years in (1, 2):
        state = (
            i18n.label("status", reduction.status)
            if reduction
            else i18n("trainee.years.no_reduction")
        )
        lines.append(row(i18n, "trainee.years.reduction", state))
    rows = [[button(i18n("trainee.years.set"), YearsCb(a="set"))]]
    if years in (1, 2):
        rows.append([button(i18n("trainee.years.reduction_button"), YearsCb(a="red"))])
    rows.append(nav_row(i18n))
    return "\n".join(lines), markup(*rows)


async def reduction_screen(
    ctx: Ctx, i18n: Translator, reduction: Reduction
) -> tuple[str, InlineKeyboardMarkup]:
    status = ReductionStatus(reduction.status)
    lines = [i18n("trainee.years.reduction_title", n=reduction.years), chain_line(i18n, status)]
    lines.append(row(i18n, "trainee.years.reduction_state", i18n.label("status", status.value)))
    if status is ReductionStatus.SENT_BACK:
        lines.append(
            i18n(
                "trainee.years.sent_back",
                level=i18n.label("role", reduction.sent_back_by or ""),
                reason=reduction.sent_back_reason or "—",
            )
        )
    docs = await training_wf.documents(ctx, reduction.id)  # type: ignore[arg-type]
    lines.append(i18n("trainee.years.documents"))
    if not docs:
        lines.append("· —")
    for doc in docs:
        lines.append(
            i18n(
                "trainee.years.document_line",
                kind=i18n.label("doc_kind", doc.kind),
                name=doc.filename,
                kb=max(1, doc.size // 1024),
                sha=doc.sha256[:12],
            )
        )
    rows = []
    if status in (ReductionStatus.DRAFT, ReductionStatus.SENT_BACK):
        lines.append(i18n("trainee.years.upload_hint", mb=ctx.max_upload_bytes // (1024 * 1024)))
        rows.append(
            [
                button(
                    i18n("trainee.years.upload", kind=i18n.label("doc_kind", k.value)),
                    YearsCb(a="up", v=k.value, r=reduction.id or 0),
                )
                for k in UPLOADS
            ]
        )
        rows.append(
            [button(i18n("trainee.years.submit"), YearsCb(a="submit", r=reduction.id or 0))]
        )
    rows.append(nav_row(i18n, YearsCb(a="show")))
    return "\n".join(lines), markup(*rows)


def chain_line(i18n: Translator, status: ReductionStatus) -> str:
    """学员提交 ✅ → 基地审核 ⏳ → …: where the request stands in the review chain."""
    at = CHAIN.index(ReductionStatus.DRAFT if status is ReductionStatus.SENT_BACK else status)
    parts = []
    for i, step in enumerate(CHAIN):
        mark = "✅" if i < at or status is ReductionStatus.APPLIED else ("⏳" if i == at else "▫️")
        parts.append(f"{i18n(f'trainee.years.chain.{step.value}')} {mark}")
    return " → ".join(parts)


async def _own_training(ctx: Ctx, actor: Actor) -> Training:
    training = await trainee_status.own_training(ctx, actor)
    if training is None:
        raise DomainError("not_found", what="training")
    return training


def build_router() -> Router:
    router = trainee_router(name="trainee-years")

    @router.message(Command("years"))
    async def years_command(message: Message, env: Env) -> None:
        await env.state.clear()
        text, kb = await years_screen(env.ctx, env.actor, env.i18n)
        await message.answer(text, reply_markup=kb)

    @router.callback_query(YearsCb.filter(F.a == "show"))
    async def show_years(query: CallbackQuery, env: Env) -> None:
        await env.state.clear()
        text, kb = await years_screen(env.ctx, env.actor, env.i18n)
        await query.answer()
        await show(query, text, kb)

    @router.callback_query(YearsCb.filter(F.a == "set"))
    async def choose_years(query: CallbackQuery, env: Env) -> None:
        i18n = env.i18n
        await _own_training(env.ctx, env.actor)
        await query.answer()
        choices = [
            button(i18n("trainee.years.n_years", n=n), YearsCb(a="years", v=str(n)))
            for n in training_wf.DURATIONS
        ]
        await show(
            query,
            i18n("trainee.years.ask_years"),
            markup(choices, nav_row(i18n, YearsCb(a="show"))),
        )

    @router.callback_query(YearsCb.filter(F.a == "years"))
    async def years_chosen(query: CallbackQuery, callback_data: YearsCb, env: Env) -> None:
        i18n = env.i18n
        await _own_training(env.ctx, env.actor)
        years = int(callback_data.v) if callback_data.v.isdigit() else 0
        if years not in training_wf.DURATIONS:
            raise DomainError("years.duration")
        await env.state.set_state(YearsInput.start)
        await env.state.set_data({"years": years})
        await query.answer()
        await show(
            query, i18n("trainee.years.ask_start", n=years), markup(nav_row(i18n, YearsCb(a="set")))
        )

    @router.message(YearsInput.start, not_command)
    async def start_typed(message: Message, env: Env) -> None:
        i18n = env.i18n
        data = await env.state.get_data()
        try:
            start = profile.parse_date(message.text or "", "start_date")
        except DomainError as err:
            await message.answer(
                i18n.error(err.code, err.params)
                + "\n\n"
                + i18n("trainee.years.ask_start", n=data["years"])
            )
            return
        await env.state.update_data(start=start.isoformat())
        await env.state.set_state(YearsInput.end)
        await _ask_end(message, i18n, data["years"], start)

    async def _ask_end(message: Message, i18n: Translator, years: int, start: date) -> None:
        derived = training_wf.derived_end(start, years)
        earliest = derived - training_wf.END_EARLIER_MAX
        kb = markup(
            [button(i18n("trainee.years.use_derived", end=derived), YearsCb(a="end"))],
            nav_row(i18n, YearsCb(a="set")),
        )
        await message.answer(
            i18n("trainee.years.ask_end", n=years, start=start, end=derived, earliest=earliest),
            reply_markup=kb,
        )

    async def save_years(event: Message | CallbackQuery, env: Env, end_text: str | None) -> None:
        ctx, actor, i18n, state = env.ctx, env.actor, env.i18n, env.state
        data = await state.get_data()
        training = await _own_training(ctx, actor)
        years = int(data["years"])
        start = profile.parse_date(data["start"], "start_date")
        reply = event.answer if isinstance(event, Message) else event.message.answer  # type: ignore[union-attr]
        try:
            end = profile.parse_date(end_text, "end_date") if end_text else None
            await training_wf.set_years(ctx, actor, training.id, years, start, end)  # type: ignore[arg-type]
        except DomainError as err:
            if err.code == "years.start_range":
                await state.set_state(YearsInput.start)
                await reply(
                    i18n.error(err.code, err.params)
                    + "\n\n"
                    + i18n("trainee.years.ask_start", n=years)
                )
            elif err.code in ("years.end_range", "field.date_format"):
                await reply(i18n.error(err.code, err.params))
                await _ask_end(
                    event if isinstance(event, Message) else event.message, i18n, years, start
                )  # type: ignore[arg-type]
            else:
                await state.clear()
                await reply(i18n.error(err.code, err.params))
            return
        await state.clear()
        await ctx.session.commit()
        text, kb = await years_screen(ctx, actor, i18n)
        await reply(i18n("trainee.years.saved") + "\n\n" + text, reply_markup=kb)

    @router.message(YearsInput.end, not_command)
    async def end_typed(message: Message, env: Env) -> None:
        await save_years(message, env, message.text or "")

    @router.callback_query(YearsCb.filter(F.a == "end"), YearsInput.end)
    async def end_derived(query: CallbackQuery, env: Env) -> None:
        await query.answer()
        await save_years(query, env, None)

    # --- reduction ---------------------------------------------------------------------------

    @router.callback_query(YearsCb.filter(F.a == "red"))
    async def reduction(query: CallbackQuery, env: Env) -> None:
        ctx, actor = env.ctx, env.actor
        training = await _own_training(ctx, actor)
        latest = await trainee_status.latest_reduction(ctx, training.id)  # type: ignore[arg-type]
        if latest is None:
            latest = await training_wf.start_reduction(ctx, actor, training.id)  # type: ignore[arg-type]
            await ctx.session.commit()
        await env.state.clear()
        text, kb = await reduction_screen(ctx, env.i18n, latest)
        await query.answer()
        await show(query, text, kb)

    @router.callback_query(YearsCb.filter(F.a == "up"))
    async def ask_upload(query: CallbackQuery, callback_data: YearsCb, env: Env) -> None:
        ctx, i18n = env.ctx, env.i18n
        row_ = await trainee_status.own_reduction(ctx, env.actor, callback_data.r)
        if ReductionStatus(row_.status) not in (ReductionStatus.DRAFT, ReductionStatus.SENT_BACK):
            raise DomainError("reduction.wrong_step", status=row_.status)
        kind = DocumentKind(callback_data.v)
        await env.state.set_state(YearsInput.upload)
        await env.state.set_data({"r": row_.id, "kind": kind.value})
        await query.answer()
        await show(
            query,
            i18n(
                "trainee.years.ask_upload",
                kind=i18n.label("doc_kind", kind.value),
                mb=ctx.max_upload_bytes // (1024 * 1024),
            ),
            markup(nav_row(i18n, YearsCb(a="red"))),
        )

    @router.message(YearsInput.upload, F.document)
    async def upload(message: Message, env: Env) -> None:
        ctx, actor, i18n, state = env.ctx, env.actor, env.i18n, env.state
        data = await state.get_data()
        document = message.document
        assert document is not None
        try:
            check_declared(document.file_size, ctx.max_upload_bytes)
            buffer = io.BytesIO()
            await env.bot.download(document, destination=buffer)
            await training_wf.attach(
                ctx,
                actor,
                int(data["r"]),
                data["kind"],
                document.file_name or "document.pdf",
                buffer.getvalue(),
            )
        except DomainError as err:
            await message.answer(
                i18n.error(err.code, err.params)
                + "\n\n"
                + i18n(
                    "trainee.years.ask_upload",
                    kind=i18n.label("doc_kind", data["kind"]),
                    mb=ctx.max_upload_bytes // (1024 * 1024),
                ),
                reply_markup=markup(nav_row(i18n, YearsCb(a="red"))),
            )
            return
        await state.clear()
        await ctx.session.commit()
        row_ = await trainee_status.own_reduction(ctx, actor, int(data["r"]))
        text, kb = await reduction_screen(ctx, i18n, row_)
        await message.answer(i18n("trainee.years.uploaded") + "\n\n" + text, reply_markup=kb)

    @router.message(YearsInput.upload, F.func(lambda m: not (m.text or "").startswith("/")))
    async def not_a_document(message: Message, env: Env) -> None:
        await message.answer(env.i18n("trainee.years.send_as_file"))

    @router.callback_query(YearsCb.filter(F.a == "submit"))
    async def submit(query: CallbackQuery, callback_data: YearsCb, env: Env) -> None:
        row_ = await training_wf.submit_reduction(env.ctx, env.actor, callback_data.r)
        await env.ctx.session.commit()
        await query.answer(env.i18n("trainee.years.submitted"))
        text, kb = await reduction_screen(env.ctx, env.i18n, row_)
        await show(query, text, kb)

    return router
