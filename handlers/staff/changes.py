"""§二 学员信息变更申请 (personnel type, sending unit 选送单位, specialty, main base, collaborating
unit) and 学员培训状态变更申请 (退培, 暂停, 延期): filed by the admitting base, approved or refused
with a reason by the commission of the base's city (or the province)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy import select

from bot import lists
from bot.keyboards import pager_row
from handlers.staff.callbacks import AppCb, ChgCb, ListCb
from handlers.staff.common import (
    Env,
    Event,
    HistCb,
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
from storage.models import Base, Specialty
from workflow import changes, queues
from workflow.enums import (
    INFO_CHANGES,
    STATUS_CHANGES,
    ChangeKind,
    ChangeStatus,
    PersonnelType,
    Role,
)
from workflow.errors import DomainError
from workflow.queues import ChangeRow, View

LIST_MAX = 500  # specialties and national bases: the whole list, filtered and paged here

COMMISSION = (Role.CITY, Role.PROVINCE)
NO_VALUE = "-"  # withdraw and pause carry no value


async def names_for(env: Env, rows: Sequence[ChangeRow]) -> dict[tuple[str, str], str]:
    """Readable old and new values of a page of requests: two queries, not one per row."""
    spec_ids: set[int] = set()
    base_ids: set[int] = set()
    for r in rows:
        for value in (r.old_value, r.new_value):
            if not value or not value.isdigit():
                continue
            if r.kind == ChangeKind.SPECIALTY:
                spec_ids.add(int(value))
            elif r.kind in (ChangeKind.BASE, ChangeKind.COLLABORATING_UNIT):
                base_ids.add(int(value))
    names: dict[tuple[str, str], str] = {}
    if spec_ids:
        for i, name in await env.ctx.session.execute(
            select(Specialty.id, Specialty.name).where(Specialty.id.in_(spec_ids))
        ):
            names[("spec", str(i))] = name
    if base_ids:
        for i, name in await env.ctx.session.execute(
            select(Base.id, Base.name).where(Base.id.in_(base_ids))
        ):
            names[("base", str(i))] = name
    return names


def value_label(env: Env, kind: str, value: str | None, names: dict[tuple[str, str], str]) -> str:
    if not value:
        return "—"
    k = ChangeKind(kind)
    if k is ChangeKind.PERSONNEL_TYPE:
        return env.i18n.label("ptype", value)
    if k is ChangeKind.SPECIALTY:
        return names.get(("spec", value), value)
    if k in (ChangeKind.BASE, ChangeKind.COLLABORATING_UNIT):
        return names.get(("base", value), value)
    if k in (ChangeKind.WITHDRAW, ChangeKind.PAUSE):
        return (
            env.t(f"lbl.training.{value}") if env.i18n.has(f"staff.lbl.training.{value}") else value
        )
    return value


def change_line(env: Env, row: ChangeRow, names: dict[tuple[str, str], str]) -> str:
    return env.t(
        "chg.line",
        id=row.id,
        app=row.application_id,
        name=row.name,
        tail=row.id_tail,
        kind=env.t(f"lbl.change.{row.kind}"),
        old=value_label(env, row.kind, row.old_value, names),
        new=value_label(env, row.kind, row.new_value, names),
        status=env.i18n.label("status", row.status),
    )


async def show_requests(env: Env, event: Event, page: int = 0, *, note: str | None = None) -> None:
    pending_only = env.actor.role is not Role.BASE
    result = await queues.change_requests(env.ctx, env.actor, pending_only=pending_only, page=page)
    names = await names_for(env, result.rows)
    kb = InlineKeyboardBuilder()
    body = []
    for row in result.rows:
        body.append(change_line(env, row, names))
        kb.row(
            button(
                f"#{row.id} {row.name} · {env.t(f'lbl.change.{row.kind}')}",
                ChgCb(op="card", id=row.id),
            )
        )
    pager = pager_row(env.i18n, result.page, result.pages, lambda p: ChgCb(op="list", page=p))
    if pager:
        kb.row(*pager)
    if env.actor.role is Role.BASE:
        kb.row(button(env.t("chg.new"), ListCb(kind=View.CHG.value, op="page", page=0)))
    kb.row(*menu_back(env.i18n))
    title = env.t("chg.title_base" if env.actor.role is Role.BASE else "chg.title_commission")
    head = [title, env.t("chg.hint")]
    if note:
        head.insert(0, note)
    head.append(page_line(env.i18n, result.total, result.page, result.pages))
    text = "\n".join(head) + "\n\n" + ("\n\n".join(body) if body else env.t("list.empty"))
    await reply(event, text, kb.as_markup())


async def show_request(
    env: Env, event: Event, change_id: int, *, note: str | None = None, new: bool = False
) -> None:
    row = await queues.change_request(env.ctx, env.actor, change_id)
    names = await names_for(env, [row])
    text = change_line(env, row, names)
    text += "\n" + env.t("chg.filed", at=env.when(row.filed_at))
    if row.decided_at:
        text += "\n" + env.t("chg.decided", at=env.when(row.decided_at), reason=row.reason or "—")
    if note:
        text = f"{note}\n\n{text}"
    kb = InlineKeyboardBuilder()
    if env.actor.role in COMMISSION and row.status == ChangeStatus.PENDING:
        kb.row(
            button(env.t("chg.approve"), ChgCb(op="ok", id=row.id)),
            button(env.t("chg.refuse"), ChgCb(op="no", id=row.id)),
        )
    kb.row(
        button(env.t("card.history"), HistCb(kind="change", id=row.id)),
        button(env.t("card.back_to_list"), ChgCb(op="list")),
    )
    await reply(event, text, kb.as_markup(), new=new)


async def show_kinds(env: Env, query: CallbackQuery, app_id: int, status: bool) -> None:
    row = await queues.application(env.ctx, env.actor, app_id, View.CHG)
    kinds = STATUS_CHANGES if status else INFO_CHANGES
    kb = InlineKeyboardBuilder()
    for kind in ChangeKind:
        if kind in kinds:
            kb.button(
                text=env.t(f"lbl.change.{kind.value}"),
                callback_data=ChgCb(op="kind", app=app_id, kind=kind.value),
            )
    kb.adjust(2)
    kb.row(button(env.t("card.back_to_card"), AppCb(act="card", id=app_id, kind=View.CHG.value)))
    key = "chg.pick_status" if status else "chg.pick_info"
    await reply(query, env.t(key, id=row.id, name=row.name), kb.as_markup())


async def show_values(env: Env, query: Event, cb: ChgCb) -> None:
    row = await queues.application(env.ctx, env.actor, cb.app, View.CHG)
    kind = ChangeKind(cb.kind)
    back = ChgCb(op="stat" if kind in STATUS_CHANGES else "info", app=cb.app)
    if kind in (ChangeKind.SENDING_UNIT, ChangeKind.EXTEND):
        await ask(
            env,
            query,
            env.t(f"chg.ask.{kind.value}", name=row.name),
            "chg_value",
            back,
            app=cb.app,
            kind=kind.value,
        )
        return
    kb = InlineKeyboardBuilder()
    found: lists.Choices[Any] | None = None
    if kind is ChangeKind.PERSONNEL_TYPE:
        for p in PersonnelType:
            kb.row(
                button(
                    env.i18n.label("ptype", p.value),
                    cb.model_copy(update={"op": "val", "val": p.value}),
                )
            )
    elif kind is ChangeKind.SPECIALTY:
        every = (await queues.specialties(env.ctx, None, 0, size=LIST_MAX)).rows
        query_text = await lists.shown(env.state, "change", f"{cb.app}:{kind.value}")
        found = lists.choose(every, cb.page, query_text, lambda s: (s.name, s.name_en, s.code))
        for s in found.shown:
            kb.row(
                button(f"{s.code} {s.name}", cb.model_copy(update={"op": "val", "val": str(s.id)}))
            )
    elif kind is ChangeKind.BASE:
        every_base = (await queues.national_bases(env.ctx, 0, size=LIST_MAX)).rows
        query_text = await lists.shown(env.state, "change", f"{cb.app}:{kind.value}")
        found = lists.choose(every_base, cb.page, query_text, lambda b: (b.name, b.code))
        for b in found.shown:
            kb.row(button(b.name, cb.model_copy(update={"op": "val", "val": str(b.id)})))
    elif kind is ChangeKind.COLLABORATING_UNIT:
        for site in (await queues.sites_of(env.ctx, row.base_id or 0))[:40]:
            kb.row(button(site.name, cb.model_copy(update={"op": "val", "val": str(site.id)})))
    else:  # withdraw, pause: confirm
        kb.row(button(env.t("chg.file_now"), cb.model_copy(update={"op": "val", "val": NO_VALUE})))
    hint: list[str] = []
    if found is not None:
        for pager in lists.rows(
            env.i18n, found, lambda p: cb.model_copy(update={"op": "kind", "page": p})
        ):
            kb.row(*pager)
        hint = lists.hint(env.i18n, found)
    kb.row(button(env.i18n("common.back"), back), *menu_back(env.i18n))
    text = "\n".join([env.t(f"chg.pick.{kind.value}", name=row.name), *hint])
    await reply(query, text, kb.as_markup())


async def search_values(event: Message | CallbackQuery, key: str, data: dict[str, Any]) -> bool:
    """The renderer of typed filters (bot/lists.py): the specialties or bases to change to."""
    actor = data.get("actor")
    app_id, _, kind = key.partition(":")
    if actor is None or actor.role is not Role.BASE or not app_id.isdigit():
        return False
    env = await make_env(data["ctx"], actor, data["i18n"], data["state"], data["bot"], reset=False)
    await show_values(env, event, ChgCb(op="kind", app=int(app_id), kind=kind))
    return True


async def file_change(env: Env, event: Event, app_id: int, kind: str, value: str) -> None:
    row = await changes.file(env.ctx, env.actor, app_id, kind, "" if value == NO_VALUE else value)
    await env.ctx.session.commit()
    await show_request(
        env, event, row.id or 0, note=env.t("done.filed"), new=isinstance(event, Message)
    )


@on_input("chg_value", Role.BASE)
async def typed_value(env: Env, message: Message, data: dict) -> None:  # type: ignore[type-arg]
    await file_change(
        env, message, int(data["app"]), str(data["kind"]), (message.text or "").strip()
    )


@on_input("chg_refuse", *COMMISSION)
async def typed_refusal(env: Env, message: Message, data: dict) -> None:  # type: ignore[type-arg]
    change_id = int(data["id"])
    await changes.decide(env.ctx, env.actor, change_id, False, message.text)
    await env.ctx.session.commit()
    await show_request(env, message, change_id, note=env.t("done.refused"))


def build_router() -> Router:
    router = staff_router(name="staff-changes")

    @router.message(Command("changes"))
    async def changes_cmd(
        message: Message,
        env: Env,
    ) -> None:
        await show_requests(env, message)

    @router.message(Command("change"))
    async def change_cmd(
        message: Message,
        command: CommandObject,
        env: Env,
    ) -> None:
        env.require(Role.BASE)
        usage = env.t("usage.change")
        parts = (command.args or "").split(maxsplit=2)
        if len(parts) < 2:
            raise DomainError("staff.usage", usage=usage)
        app_id = int_arg(parts[0], usage=usage)
        try:
            kind = ChangeKind(parts[1].lower())
        except ValueError as exc:
            raise DomainError("staff.usage", usage=usage) from exc
        value = parts[2] if len(parts) > 2 else NO_VALUE
        await file_change(env, message, app_id, kind.value, value)

    @router.message(Command("decide"))
    async def decide_cmd(
        message: Message,
        command: CommandObject,
        env: Env,
    ) -> None:
        env.require(*COMMISSION)
        usage = env.t("usage.decide")
        parts = (command.args or "").split(maxsplit=2)
        if len(parts) < 2 or parts[1].lower() not in ("yes", "no", "是", "否"):
            raise DomainError("staff.usage", usage=usage)
        change_id = int_arg(parts[0], usage=usage)
        approve = parts[1].lower() in ("yes", "是")
        await changes.decide(
            env.ctx, env.actor, change_id, approve, parts[2] if len(parts) > 2 else None
        )
        await env.ctx.session.commit()
        await show_request(
            env, message, change_id, note=env.t("done.approved" if approve else "done.refused")
        )

    @router.callback_query(ChgCb.filter())
    async def on_change(
        query: CallbackQuery,
        callback_data: ChgCb,
        env: Env,
    ) -> None:
        cb = callback_data
        if cb.op in ("kind", "val") and cb.kind not in set(ChangeKind):
            raise DomainError("stale")
        base_ops = ("info", "stat", "kind", "val")
        roles = (Role.BASE,) if cb.op in base_ops else COMMISSION if cb.op in ("ok", "no") else ()
        env.require(*roles)
        if cb.op == "list":
            await show_requests(env, query, cb.page)
        elif cb.op in ("info", "stat"):
            await show_kinds(env, query, cb.app, cb.op == "stat")
        elif cb.op == "kind":
            await show_values(env, query, cb)
        elif cb.op == "val":
            await file_change(env, query, cb.app, cb.kind, cb.val)
        elif cb.op == "ok":
            await changes.decide(env.ctx, env.actor, cb.id, True)
            await env.ctx.session.commit()
            await show_request(env, query, cb.id, note=env.t("done.approved"))
        elif cb.op == "no":
            await queues.change_request(env.ctx, env.actor, cb.id)
            await ask(
                env,
                query,
                env.t("chg.ask_reason", id=cb.id),
                "chg_refuse",
                ChgCb(op="card", id=cb.id),
                id=cb.id,
            )
        else:  # card; "open" comes from a notice, which stays as it is
            await show_request(env, query, cb.id, new=cb.op == "open")

    return router
