"""培训年限管理 for the base (§一.6): a trainee's years, start and end; the Excel export and
import of the filtered list; and the reduction review chain (base with the hospital's proof →
city → province → applied by itself), each level approving or sending back with a reason."""

from __future__ import annotations

import io

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot import exports
from bot.keyboards import pager_row
from handlers.staff.callbacks import ListCb, RedCb, YearsCb
from handlers.staff.common import (
    Env,
    Event,
    HistCb,
    ask,
    button,
    chat_of,
    int_arg,
    menu_back,
    on_input,
    page_line,
    reply,
    staff_router,
)
from handlers.staff.lists import YEARS, show_list
from storage import files
from workflow import queues, training, years_import
from workflow.enums import DocumentKind, ReductionStatus, Role
from workflow.errors import DomainError
from workflow.profile import parse_date
from workflow.text import digits

# --- training card --------------------------------------------------------------------------


async def show_training(
    env: Env, event: Event, training_id: int, *, note: str | None = None, new: bool = False
) -> None:
    row = await queues.training(env.ctx, env.actor, training_id)
    t = env.t
    years = t("years.years_n", n=row.duration_years) if row.duration_years else "—"
    out = [
        t("years.head", id=row.id, name=row.name, tail=row.id_tail),
        t("years.batch", batch=row.batch_name, year=row.cohort_year),
        t("years.specialty", specialty=row.specialty_name or "—"),
        t("years.value", years=years, start=row.start_date or "—", end=row.end_date or "—"),
        t("years.status", status=t(f"lbl.training.{row.status}")),
    ]
    if row.reduction_status:
        out.append(t("years.reduction", status=env.i18n.label("status", row.reduction_status)))
    if note:
        out.insert(0, note + "\n")
    kb = InlineKeyboardBuilder()
    if env.actor.role is Role.BASE:
        kb.row(button(t("years.set"), YearsCb(op="set", id=row.id)))
    if row.reduction_id:
        kb.row(button(t("years.open_reduction"), RedCb(op="card", id=row.reduction_id)))
    kb.row(
        button(t("card.history"), HistCb(kind="training", id=row.id)),
        button(t("card.back_to_list"), ListCb(kind=YEARS, op="page", page=-1)),
    )
    await reply(event, "\n".join(out), kb.as_markup(), new=new)


def parse_years(text: str) -> tuple[int, object, object]:
    parts = digits(text).split()
    if len(parts) not in (2, 3) or not parts[0].isascii() or not parts[0].isdigit():
        raise DomainError("staff.years_format")
    start = parse_date(parts[1], "start_date")
    end = parse_date(parts[2], "end_date") if len(parts) == 3 else None
    return int(parts[0]), start, end


@on_input("years", Role.BASE)
async def typed_years(env: Env, message: Message, data: dict) -> None:  # type: ignore[type-arg]
    tid = int(data["id"])
    years, start, end = parse_years(message.text or "")
    await training.set_years(env.ctx, env.actor, tid, years, start, end)  # type: ignore[arg-type]
    await env.ctx.session.commit()
    await show_training(env, message, tid, note=env.t("done.years"))


# --- import ---------------------------------------------------------------------------------


async def ask_import(env: Env, query: CallbackQuery) -> None:
    await ask(
        env,
        query,
        env.t("years.ask_import"),
        "years_import",
        ListCb(kind=YEARS, op="page", page=-1),
        upload=True,
    )


@on_input("years_import", Role.BASE)
async def uploaded_years(env: Env, message: Message, data: dict) -> None:  # type: ignore[type-arg]
    document = message.document
    if document is None:
        raise DomainError("yimport.not_xlsx")
    if document.file_size and document.file_size > env.ctx.max_upload_bytes:
        raise DomainError("pdf.too_large", max_mb=env.ctx.max_upload_bytes // (1024 * 1024))
    raw = await env.bot.download(document, destination=io.BytesIO())
    rows = exports.read_years_xlsx(raw.getvalue() if raw else b"")
    try:
        result = await years_import.apply(env.ctx, env.actor, rows)
    except years_import.ImportRejected as rejected:
        await env.ctx.session.rollback()  # nothing of the file is applied; the question stays
        report = [env.t("years.import_rejected", n=len(rejected.errors))]
        for err in rejected.errors[:40]:
            report.append(
                env.t("years.import_row", row=err.row) + env.i18n.error(err.code, err.params)
            )
        if len(rejected.errors) > 40:
            report.append("…")
        await message.answer("\n".join(report))
        return
    await env.ctx.session.commit()
    await show_list(
        env,
        message,
        YEARS,
        note=env.t("years.imported", changed=result.changed, unchanged=result.unchanged),
        new=True,
    )


# --- reductions -----------------------------------------------------------------------------


async def show_reductions(
    env: Env, event: Event, page: int = 0, *, note: str | None = None
) -> None:
    result = await queues.reductions_to_review(env.ctx, env.actor, page)
    t = env.t
    kb = InlineKeyboardBuilder()
    body = []
    for n, row in enumerate(result.rows, start=result.page * 8 + 1):
        body.append(
            t(
                "red.line",
                n=n,
                id=row.id,
                tid=row.training_id,
                name=row.name,
                tail=row.id_tail,
                base=row.base_name,
                years=row.years,
            )
        )
        kb.row(button(f"#{row.id} {row.name}", RedCb(op="card", id=row.id, page=result.page)))
    pager = pager_row(env.i18n, result.page, result.pages, lambda p: RedCb(op="list", page=p))
    if pager:
        kb.row(*pager)
    kb.row(*menu_back(env.i18n))
    head = [t(f"red.title.{env.actor.role.value}"), t("red.hint")]
    if note:
        head.insert(0, note)
    head.append(page_line(env.i18n, result.total, result.page, result.pages))
    text = "\n".join(head) + "\n\n" + ("\n".join(body) if body else t("list.empty"))
    await reply(event, text, kb.as_markup())


async def show_reduction(
    env: Env, event: Event, reduction_id: int, *, note: str | None = None, new: bool = False
) -> None:
    row = await queues.reduction(env.ctx, env.actor, reduction_id)
    docs = await training.documents(env.ctx, reduction_id)
    t = env.t
    out = [
        t("red.head", id=row.id, name=row.name, tail=row.id_tail, tid=row.training_id),
        t("red.base", base=row.base_name, specialty=row.specialty_name or "—"),
        t("red.years", years=row.years, start=row.start_date or "—", end=row.end_date or "—"),
        t("red.status", status=env.i18n.label("status", row.status)),
    ]
    if row.status == ReductionStatus.SENT_BACK:
        out.append(
            t(
                "red.sent_back",
                level=env.i18n.label("role", row.sent_back_by or ""),
                reason=row.sent_back_reason or "—",
            )
        )
    out.append(t("red.docs"))
    for kind in DocumentKind:
        names = [d.filename for d in docs if d.kind == kind]
        out.append(
            f"· {env.i18n.label('doc_kind', kind.value)}：{'，'.join(names) if names else '—'}"
        )
    if note:
        out.insert(0, note + "\n")
    kb = InlineKeyboardBuilder()
    if docs:
        kb.row(button(t("red.show_docs"), RedCb(op="docs", id=row.id)))
    level = queues.REVIEW_LEVEL[env.actor.role]
    if row.status == level:
        if env.actor.role is Role.BASE:
            kb.row(button(t("red.add_proof"), RedCb(op="proof", id=row.id)))
        kb.row(
            button(t("red.approve"), RedCb(op="ok", id=row.id)),
            button(t("red.send_back"), RedCb(op="back", id=row.id)),
        )
    kb.row(
        button(t("card.history"), HistCb(kind="reduction", id=row.id)),
        button(t("card.back_to_list"), RedCb(op="list")),
    )
    await reply(event, "\n".join(out), kb.as_markup(), new=new)


async def send_docs(env: Env, query: CallbackQuery, reduction_id: int) -> None:
    await queues.reduction(env.ctx, env.actor, reduction_id)  # the scope check
    docs = await training.documents(env.ctx, reduction_id)
    await query.answer()
    for doc in docs:
        data = files.read(env.ctx.upload_dir, doc.path)
        await env.bot.send_document(
            chat_of(query),
            BufferedInputFile(data, filename=doc.filename),
            caption=env.i18n.label("doc_kind", doc.kind),
        )


@on_input("proof", Role.BASE)
async def uploaded_proof(env: Env, message: Message, data: dict) -> None:  # type: ignore[type-arg]
    rid = int(data["id"])
    document = message.document
    if document is None:
        raise DomainError("pdf.not_pdf")
    training.check_declared(document.file_size, env.ctx.max_upload_bytes)
    raw = await env.bot.download(document, destination=io.BytesIO())
    await training.attach(
        env.ctx,
        env.actor,
        rid,
        DocumentKind.HOSPITAL_PROOF,
        document.file_name or "hospital_proof.pdf",
        raw.getvalue() if raw else b"",
    )
    await env.ctx.session.commit()
    await show_reduction(env, message, rid, note=env.t("done.proof"))


@on_input("rback")
async def typed_send_back(env: Env, message: Message, data: dict) -> None:  # type: ignore[type-arg]
    rid = int(data["id"])
    await training.review_reduction(env.ctx, env.actor, rid, False, message.text)
    await env.ctx.session.commit()
    await show_reduction(env, message, rid, note=env.t("done.red_back"))


def build_router() -> Router:
    router = staff_router(name="staff-years")

    @router.message(Command("trainings"))
    async def trainings_cmd(
        message: Message,
        env: Env,
    ) -> None:
        env.require(Role.BASE)
        await show_list(env, message, YEARS, 0)

    @router.callback_query(YearsCb.filter())
    async def on_training(
        query: CallbackQuery,
        callback_data: YearsCb,
        env: Env,
    ) -> None:
        if callback_data.op == "set":
            row = await queues.training(env.ctx, env.require(Role.BASE), callback_data.id)
            await ask(
                env,
                query,
                env.t("years.ask", id=row.id, name=row.name),
                "years",
                YearsCb(op="card", id=row.id),
                id=row.id,
            )
        else:
            await show_training(env, query, callback_data.id)

    @router.message(Command("setyears"))
    async def setyears_cmd(
        message: Message,
        command: CommandObject,
        env: Env,
    ) -> None:
        env.require(Role.BASE)
        parts = (command.args or "").split(maxsplit=1)
        tid = int_arg(parts[0] if parts else None, usage=env.t("usage.setyears"))
        try:
            years, start, end = parse_years(parts[1] if len(parts) > 1 else "")
        except DomainError as err:
            if err.code == "staff.years_format":
                raise DomainError("staff.usage", usage=env.t("usage.setyears")) from err
            raise
        await training.set_years(env.ctx, env.actor, tid, years, start, end)  # type: ignore[arg-type]
        await env.ctx.session.commit()
        await show_training(env, message, tid, note=env.t("done.years"))

    @router.message(Command("reductions"))
    async def reductions_cmd(
        message: Message,
        env: Env,
    ) -> None:
        await show_reductions(env, message)

    @router.message(Command("reduction", "rapprove", "rback"))
    async def reduction_cmd(
        message: Message,
        command: CommandObject,
        env: Env,
    ) -> None:
        name = command.command
        parts = (command.args or "").split(maxsplit=1)
        tid = int_arg(parts[0] if parts else None, usage=env.t(f"usage.{name}"))
        row = await queues.reduction_of_training(env.ctx, env.actor, tid)
        if name == "reduction":
            await show_reduction(env, message, row.id)
            return
        approve = name == "rapprove"
        reason = parts[1] if len(parts) > 1 else None
        await training.review_reduction(env.ctx, env.actor, row.id, approve, reason)
        await env.ctx.session.commit()
        note = env.t("done.red_ok" if approve else "done.red_back")
        await show_reduction(env, message, row.id, note=note)

    @router.callback_query(RedCb.filter())
    async def on_reduction(
        query: CallbackQuery,
        callback_data: RedCb,
        env: Env,
    ) -> None:
        op, rid = callback_data.op, callback_data.id
        if op == "list":
            await show_reductions(env, query, callback_data.page)
        elif op == "docs":
            await send_docs(env, query, rid)
        elif op == "proof":
            await queues.reduction(env.ctx, env.require(Role.BASE), rid)
            await ask(
                env,
                query,
                env.t("red.ask_proof"),
                "proof",
                RedCb(op="card", id=rid),
                upload=True,
                id=rid,
            )
        elif op == "ok":
            await training.review_reduction(env.ctx, env.actor, rid, True)
            await env.ctx.session.commit()
            await show_reduction(env, query, rid, note=env.t("done.red_ok"))
        elif op == "back":
            await queues.reduction(env.ctx, env.actor, rid)
            await ask(
                env, query, env.t("red.ask_reason"), "rback", RedCb(op="card", id=rid), id=rid
            )
        else:
            await show_reduction(env, query, rid)

    return router
