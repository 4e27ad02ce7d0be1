"""招生计划申报 (a base declares its numbers per specialty before the batch opens), the
province's approval or adjustment with a reason, 招生计划查看 and 批次时间查询 for every staff
role."""

from __future__ import annotations

from typing import Any

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy import select

from bot import lists
from bot.keyboards import pager_row
from handlers.staff.callbacks import PlanCb
from handlers.staff.common import (
    Env,
    Event,
    HistCb,
    args_of,
    ask,
    button,
    int_arg,
    make_env,
    menu_back,
    on_input,
    page_line,
    reply,
    staff_router,
)
from storage.models import Batch, Specialty
from workflow import plans, queues
from workflow.enums import Role
from workflow.errors import DomainError, NotFound
from workflow.text import digits, record_id

SPECIALTIES_MAX = 500  # the whole list, filtered and paged here


def _open(env: Env, batch: Batch) -> bool:
    return env.ctx.now() >= batch.apply_start


async def pick_batch(env: Env, event: Event, op: str, page: int = 0) -> None:
    """Batches, newest first; `op` is what a chosen batch leads to (view, dspec, stats)."""
    result = await queues.batches(env.ctx, page)
    kb = InlineKeyboardBuilder()
    for b in result.rows:
        if op == "dspec" and _open(env, b):
            continue  # declaring is only possible before the batch opens
        kb.row(button(b.name, PlanCb(op=op, batch=b.id or 0)))
    pager = pager_row(env.i18n, result.page, result.pages, lambda p: PlanCb(op=f"b_{op}", page=p))
    if pager:
        kb.row(*pager)
    kb.row(*menu_back(env.i18n))
    key = "plans.pick_declare" if op == "dspec" else "plans.pick_batch"
    await reply(event, env.t(key), kb.as_markup())


def plan_line(env: Env, row: queues.PlanRow) -> str:
    status = env.t(f"lbl.plan.{row.status}")
    line = env.t(
        "plans.line",
        id=row.id,
        base=row.base_name,
        specialty=row.specialty_name,
        planned=row.planned,
        declared="—" if row.declared is None else row.declared,
        status=status,
    )
    if row.reason:
        line += env.t("plans.reason", reason=row.reason)
    return line


async def show_plans(
    env: Env, event: Event, batch_id: int, page: int = 0, *, new: bool = False
) -> None:
    batch = await env.ctx.get(Batch, batch_id)
    result = await queues.plans(env.ctx, env.actor, batch_id, page=page)
    t = env.t
    head = [
        t("plans.title", batch=batch.name),
        t("plans.period", start=batch.apply_start, end=batch.apply_end),
        page_line(env.i18n, result.total, result.page, result.pages),
    ]
    body = [plan_line(env, r) for r in result.rows] or [t("list.empty")]
    kb = InlineKeyboardBuilder()
    pager = pager_row(
        env.i18n, result.page, result.pages, lambda p: PlanCb(op="view", batch=batch_id, page=p)
    )
    if pager:
        kb.row(*pager)
    if env.actor.role is Role.BASE and not _open(env, batch):
        kb.row(button(t("plans.declare"), PlanCb(op="dspec", batch=batch_id)))
    if env.actor.role is Role.PROVINCE:
        kb.row(button(t("plans.review"), PlanCb(op="rev")))
    kb.row(button(env.i18n("common.back"), PlanCb(op="b_view")), *menu_back(env.i18n))
    await reply(event, "\n".join(head) + "\n\n" + "\n".join(body), kb.as_markup(), new=new)


async def show_batches(env: Env, event: Event, page: int = 0) -> None:
    result = await queues.batches(env.ctx, page, size=5)
    t = env.t
    body = []
    for b in result.rows:
        body.append(
            t(
                "batches.item",
                name=b.name,
                program=env.i18n.label("program", b.program),
                year=b.cohort_year,
                apply_start=b.apply_start,
                apply_end=b.apply_end,
                confirm_start=b.confirm_start,
                confirm_end=b.confirm_end,
                lock=b.lock_hours,
                offer=b.offer_hours,
                state=t(
                    "batches.open"
                    if b.apply_start <= env.ctx.now() <= b.apply_end
                    else ("batches.closed" if env.ctx.now() > b.apply_end else "batches.upcoming")
                ),
            )
        )
    kb = InlineKeyboardBuilder()
    pager = pager_row(env.i18n, result.page, result.pages, lambda p: PlanCb(op="times", page=p))
    if pager:
        kb.row(*pager)
    kb.row(*menu_back(env.i18n))
    text = "\n".join(
        [t("batches.title"), page_line(env.i18n, result.total, result.page, result.pages), ""]
    ) + ("\n\n".join(body) if body else t("list.empty"))
    await reply(event, text, kb.as_markup())


async def pick_specialty(env: Env, event: Event, batch_id: int, page: int = 0) -> None:
    """The specialties to declare a number for; typing part of a name filters them."""
    batch = await env.ctx.get(Batch, batch_id)
    every = (await queues.specialties(env.ctx, batch.program, 0, size=SPECIALTIES_MAX)).rows
    query = await lists.shown(env.state, "declare", str(batch_id))
    found = lists.choose(every, page, query, lambda s: (s.name, s.name_en, s.code))
    kb = InlineKeyboardBuilder()
    for s in found.shown:
        kb.row(button(f"{s.code} {s.name}", PlanCb(op="dnum", batch=batch_id, spec=s.id or 0)))
    for row in lists.rows(env.i18n, found, lambda p: PlanCb(op="dspec", batch=batch_id, page=p)):
        kb.row(*row)
    kb.row(button(env.i18n("common.back"), PlanCb(op="view", batch=batch_id)), *menu_back(env.i18n))
    text = "\n".join(
        [env.t("plans.pick_specialty", batch=batch.name), *lists.hint(env.i18n, found)]
    )
    await reply(event, text, kb.as_markup())


async def search_specialty(event: Message | CallbackQuery, key: str, data: dict[str, Any]) -> bool:
    """The renderer of typed filters (bot/lists.py) for the specialties a base declares."""
    actor = data.get("actor")
    if actor is None or actor.role is not Role.BASE or not key.isdigit():
        return False
    env = await make_env(data["ctx"], actor, data["i18n"], data["state"], data["bot"], reset=False)
    await pick_specialty(env, event, int(key))
    return True


async def declared(env: Env, event: Event, plan: object, *, new: bool) -> None:
    row = plan  # the Plan row just declared
    batch = await env.ctx.get(Batch, row.batch_id)  # type: ignore[attr-defined]
    spec = await env.ctx.get(Specialty, row.specialty_id)  # type: ignore[attr-defined]
    kb = InlineKeyboardBuilder()
    kb.row(
        button(env.t("plans.back_to_batch"), PlanCb(op="view", batch=batch.id or 0)),
        button(env.t("card.history"), HistCb(kind="plan", id=row.id)),  # type: ignore[attr-defined]
    )
    kb.row(*menu_back(env.i18n))
    text = env.t(
        "done.declared",
        batch=batch.name,
        specialty=spec.name,
        number=row.declared,  # type: ignore[attr-defined]
    )
    await reply(event, text, kb.as_markup(), new=new)


@on_input("declare", Role.BASE)
async def typed_number(env: Env, message: Message, data: dict) -> None:  # type: ignore[type-arg]
    text = digits(message.text or "")
    if not text.isascii() or not text.isdigit():
        raise DomainError("plan.number", max=plans.MAX_PLANNED)
    plan = await plans.declare(env.ctx, env.actor, int(data["batch"]), int(data["spec"]), int(text))
    await env.ctx.session.commit()
    await declared(env, message, plan, new=True)


async def show_review(env: Env, event: Event, page: int = 0, *, note: str | None = None) -> None:
    result = await queues.plans(env.ctx, env.actor, None, declared_only=True, page=page, size=6)
    t = env.t
    kb = InlineKeyboardBuilder()
    body = []
    for row in result.rows:
        body.append(plan_line(env, row) + env.t("plans.in_batch", batch=row.batch_name))
        kb.row(
            button(t("plans.approve", id=row.id, n=row.declared), PlanCb(op="ok", plan=row.id)),
            button(t("plans.adjust", id=row.id), PlanCb(op="adj", plan=row.id)),
        )
    pager = pager_row(env.i18n, result.page, result.pages, lambda p: PlanCb(op="rev", page=p))
    if pager:
        kb.row(*pager)
    kb.row(*menu_back(env.i18n))
    head = [t("plans.review_title"), t("plans.review_hint")]
    if note:
        head.insert(0, note)
    head.append(page_line(env.i18n, result.total, result.page, result.pages))
    text = "\n".join(head) + "\n\n" + ("\n".join(body) if body else t("list.empty"))
    await reply(event, text, kb.as_markup())


@on_input("adjust", Role.PROVINCE)
async def typed_adjust(env: Env, message: Message, data: dict) -> None:  # type: ignore[type-arg]
    parts = digits(message.text or "").split(maxsplit=1)
    if not parts or not parts[0].isascii() or not parts[0].isdigit():
        raise DomainError("plan.number", max=plans.MAX_PLANNED)
    plan = await plans.decide(
        env.ctx, env.actor, int(data["plan"]), int(parts[0]), parts[1] if len(parts) > 1 else None
    )
    await env.ctx.session.commit()
    await show_review(env, message, note=env.t("done.plan_decided", id=plan.id, n=plan.planned))


async def resolve_specialty(env: Env, batch: Batch, text: str) -> int:
    spec_id = await env.ctx.session.scalar(
        select(Specialty.id).where(Specialty.code == text, Specialty.program == batch.program)
    )
    if spec_id is None and (number := record_id(text)) is not None:
        spec_id = await env.ctx.session.scalar(select(Specialty.id).where(Specialty.id == number))
    if spec_id is None:
        raise NotFound("specialty")
    return spec_id


def build_router() -> Router:
    router = staff_router(name="staff-plans")

    @router.message(Command("plans"))
    async def plans_cmd(
        message: Message,
        command: CommandObject,
        env: Env,
    ) -> None:
        if command.args:
            await show_plans(env, message, int_arg(command.args, usage=env.t("usage.plans")))
        else:
            await pick_batch(env, message, "view")

    @router.message(Command("batches"))
    async def batches_cmd(
        message: Message,
        env: Env,
    ) -> None:
        await show_batches(env, message)

    @router.message(Command("declare"))
    async def declare_cmd(
        message: Message,
        command: CommandObject,
        env: Env,
    ) -> None:
        env.require(Role.BASE)
        args = args_of(command.args)
        if not args:
            await pick_batch(env, message, "dspec")
            return
        usage = env.t("usage.declare")
        if len(args) != 3:
            raise DomainError("staff.usage", usage=usage)
        batch = await env.ctx.get(Batch, int_arg(args[0], usage=usage))
        spec_id = await resolve_specialty(env, batch, args[1])
        plan = await plans.declare(
            env.ctx, env.actor, batch.id or 0, spec_id, int_arg(args[2], usage=usage)
        )
        await env.ctx.session.commit()
        await declared(env, message, plan, new=True)

    @router.message(Command("planreview"))
    async def review_cmd(
        message: Message,
        env: Env,
    ) -> None:
        env.require(Role.PROVINCE)
        await show_review(env, message)

    @router.message(Command("approveplan", "adjustplan"))
    async def decide_cmd(
        message: Message,
        command: CommandObject,
        env: Env,
    ) -> None:
        env.require(Role.PROVINCE)
        name = command.command
        usage = env.t(f"usage.{name}")
        parts = (command.args or "").split(maxsplit=2)
        plan_id = int_arg(parts[0] if parts else None, usage=usage)
        if name == "approveplan":
            plan = await plans.decide(env.ctx, env.actor, plan_id)
        else:
            number = int_arg(parts[1] if len(parts) > 1 else None, usage=usage)
            plan = await plans.decide(
                env.ctx, env.actor, plan_id, number, parts[2] if len(parts) > 2 else None
            )
        await env.ctx.session.commit()
        await show_review(env, message, note=env.t("done.plan_decided", id=plan.id, n=plan.planned))

    @router.callback_query(PlanCb.filter())
    async def on_plan(
        query: CallbackQuery,
        callback_data: PlanCb,
        env: Env,
    ) -> None:
        cb = callback_data
        if cb.op in ("dspec", "dnum", "b_dspec"):
            env.require(Role.BASE)
        elif cb.op in ("rev", "ok", "adj"):
            env.require(Role.PROVINCE)
        if cb.op.startswith("b_"):
            await pick_batch(env, query, cb.op[2:], cb.page)
        elif cb.op in ("view", "open"):  # "open": from a notice, which stays as it is
            await show_plans(env, query, cb.batch, cb.page, new=cb.op == "open")
        elif cb.op == "times":
            await show_batches(env, query, cb.page)
        elif cb.op == "dspec":
            await pick_specialty(env, query, cb.batch, cb.page)
        elif cb.op == "dnum":
            batch = await env.ctx.get(Batch, cb.batch)
            spec = await env.ctx.get(Specialty, cb.spec)
            await ask(
                env,
                query,
                env.t("plans.ask_number", batch=batch.name, specialty=spec.name),
                "declare",
                PlanCb(op="dspec", batch=cb.batch),
                batch=cb.batch,
                spec=cb.spec,
            )
        elif cb.op == "rev":
            await show_review(env, query, cb.page)
        elif cb.op == "ok":
            plan = await plans.decide(env.ctx, env.actor, cb.plan)
            await env.ctx.session.commit()
            await show_review(
                env, query, note=env.t("done.plan_decided", id=plan.id, n=plan.planned)
            )
        elif cb.op == "adj":
            await ask(
                env,
                query,
                env.t("plans.ask_adjust", id=cb.plan),
                "adjust",
                PlanCb(op="rev"),
                plan=cb.plan,
            )
        else:
            await query.answer()

    return router
