"""A record card (one application) and its actions, by button and by typed command:
预录取 / 不录取 / 取消预录取 (§一.2), 基地录取 / 发送录取结果 / 取消录取 (§一.3–4),
录取结果确认 (the supervising commission), 已报到 / 未报到 (§一.5).

Both paths call the same workflow function, which checks role, scope and state again."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from handlers.staff.callbacks import AllocCb, AppCb, ChgCb, ListCb
from handlers.staff.common import (
    Env,
    Event,
    HistCb,
    args_of,
    ask,
    button,
    int_arg,
    on_input,
    reply,
    staff_router,
)
from handlers.staff.lists import ROLES_OF, show_list
from workflow import admission, queues
from workflow.enums import ApplicationStatus as S
from workflow.enums import Role
from workflow.errors import DomainError
from workflow.queues import AppRow, View
from workflow.record_actions import ACTIONS


def card_text(env: Env, row: AppRow) -> str:
    t, when = env.t, env.when
    out = [
        t("card.head", id=row.id, name=row.name),
        t("card.id", id_type=env.i18n.label("id_type", row.id_type), tail=row.masked_tail),
        t("card.batch", batch=row.batch_name, year=row.cohort_year),
        t("card.ptype", ptype=env.i18n.label("ptype", row.personnel_type or "—")),
        t(
            "card.choice",
            specialty=row.specialty_name or "—",
            base=row.base_name or "—",
            site=row.site_name or "—",
        ),
        t("card.reassign", value=bool(row.accept_reassignment)),
        t("card.status", status=env.i18n.label("status", row.status)),
        t("card.submitted", at=when(row.submitted_at)),
    ]
    if row.not_admitted_reason and row.status == S.NOT_ADMITTED:
        out.append(t("card.reason", reason=row.not_admitted_reason))
    if row.status in queues.VIEW_STATUSES[View.ADM]:
        out.append(t("card.sent", sent=row.sent_at is not None, at=when(row.sent_at)))
    if row.acceptable_at:
        out.append(t("card.window", start=when(row.acceptable_at), end=when(row.deadline_at)))
    if row.confirmed_at:
        out.append(t("card.confirmed", at=when(row.confirmed_at)))
    if row.status == S.CONFIRMED:
        out.append(
            t(
                "card.checkin",
                value=t(f"lbl.checkin.{row.checkin or 'none'}"),
                at=when(row.checkin_at),
            )
        )
    return "\n".join(out)


def card_buttons(env: Env, row: AppRow, kind: str) -> InlineKeyboardBuilder:
    kb = InlineKeyboardBuilder()
    status = S(row.status)

    def act(name: str) -> None:
        kb.button(
            text=env.t(f"card.do.{name}"), callback_data=AppCb(act=name, id=row.id, kind=kind)
        )

    for name in queues.actions_for(row, View(kind), env.ctx.now()):
        act(name)
    if kind == View.CHG and status is S.CONFIRMED:
        kb.button(text=env.t("card.do.info"), callback_data=ChgCb(op="info", app=row.id))
        kb.button(text=env.t("card.do.stat"), callback_data=ChgCb(op="stat", app=row.id))
    elif kind == View.ALC and status is S.NOT_ADMITTED:
        kb.button(text=env.t("card.do.alloc"), callback_data=AllocCb(op="places", app=row.id))
    kb.adjust(2)
    kb.row(
        button(env.t("card.history"), HistCb(kind="app", id=row.id)),
        button(env.t("card.back_to_list"), ListCb(kind=kind, op="page", page=-1)),
    )
    return kb


async def show_card(
    env: Env, event: Event, kind: str, app_id: int, *, note: str | None = None, new: bool = False
) -> None:
    row = await queues.application(env.ctx, env.actor, app_id, View(kind))
    text = card_text(env, row)
    if kind == View.PRE:
        text += "\n\n" + env.t("list.hint.pre")
    if kind == View.ADM:
        text += "\n\n" + env.t("card.send_reminder")
    if note:
        text = f"{note}\n\n{text}"
    await reply(event, text, card_buttons(env, row, kind).as_markup(), new=new)


async def perform(env: Env, act: str, app_id: int) -> View:
    call, view = ACTIONS[act]
    await call(env.ctx, env.actor, app_id)
    await env.ctx.session.commit()
    return view


@on_input("reject", Role.BASE)
async def typed_reason(env: Env, message: Message, data: dict) -> None:  # type: ignore[type-arg]
    app_id = int(data["id"])
    await admission.reject(env.ctx, env.actor, app_id, message.text)
    await env.ctx.session.commit()
    await show_card(env, message, str(data.get("kind") or "pre"), app_id, note=env.t("done.rej"))


# typed command → (act, argument usage key)
COMMANDS = {
    "preadmit": "pre",
    "unpreadmit": "unpre",
    "admit": "adm",
    "unadmit": "unadm",
}


def build_router() -> Router:
    router = staff_router(name="staff-records")

    @router.callback_query(AppCb.filter())
    async def on_card(
        query: CallbackQuery,
        callback_data: AppCb,
        env: Env,
    ) -> None:
        kind, act, app_id = callback_data.kind, callback_data.act, callback_data.id
        if kind not in ROLES_OF or kind == "yrs":
            kind = View.PRE.value
        env.require(*ROLES_OF[kind])
        if act in ("card", "open"):  # "open": from a notice, which stays as it is
            await show_card(env, query, kind, app_id, new=act == "open")
        elif act == "rej":
            row = await queues.application(env.ctx, env.actor, app_id, View(kind))
            await ask(
                env,
                query,
                env.t("card.ask_reason", id=row.id, name=row.name),
                "reject",
                AppCb(act="card", id=app_id, kind=kind),
                id=app_id,
                kind=kind,
            )
        elif act in ACTIONS:
            await perform(env, act, app_id)
            await show_card(env, query, kind, app_id, note=env.t(f"done.{act}"))
        else:
            await query.answer()

    def typed(name: str, act: str) -> None:
        @router.message(Command(name))
        async def handler(
            message: Message,
            command: CommandObject,
            env: Env,
        ) -> None:
            env.require(Role.BASE)
            app_id = int_arg(command.args, usage=env.t(f"usage.{name}"))
            view = await perform(env, act, app_id)
            await show_card(env, message, view.value, app_id, note=env.t(f"done.{act}"))

    for name, act in COMMANDS.items():
        typed(name, act)

    @router.message(Command("reject"))
    async def reject_cmd(
        message: Message,
        command: CommandObject,
        env: Env,
    ) -> None:
        env.require(Role.BASE)
        parts = (command.args or "").split(maxsplit=1)
        app_id = int_arg(parts[0] if parts else None, usage=env.t("usage.reject"))
        await admission.reject(env.ctx, env.actor, app_id, parts[1] if len(parts) > 1 else None)
        await env.ctx.session.commit()
        await show_card(env, message, View.PRE.value, app_id, note=env.t("done.rej"))

    @router.message(Command("send"))
    async def send_cmd(
        message: Message,
        command: CommandObject,
        env: Env,
    ) -> None:
        env.require(Role.BASE)
        ids = [int_arg(a, usage=env.t("usage.send")) for a in args_of(command.args)]
        if not ids:
            raise DomainError("staff.usage", usage=env.t("usage.send"))
        apps = await admission.send_results(env.ctx, env.actor, ids)
        await env.ctx.session.commit()
        await show_list(env, message, View.ADM.value, note=env.t("done.sent_n", n=len(apps)))

    @router.message(Command("confirm"))
    async def confirm_cmd(
        message: Message,
        command: CommandObject,
        env: Env,
    ) -> None:
        env.require(Role.CITY, Role.PROVINCE)
        if not command.args:
            await show_list(env, message, View.CNF.value, 0)
            return
        app_id = int_arg(command.args, usage=env.t("usage.confirm"))
        await perform(env, "cnf", app_id)
        await show_card(env, message, View.CNF.value, app_id, note=env.t("done.cnf"))

    @router.message(Command("checkin"))
    async def checkin_cmd(
        message: Message,
        command: CommandObject,
        env: Env,
    ) -> None:
        env.require(Role.BASE)
        args = args_of(command.args)
        if not args:
            await show_list(env, message, View.CHK.value, 0)
            return
        usage = env.t("usage.checkin")
        app_id = int_arg(args[0], usage=usage)
        answer = args[1].lower() if len(args) > 1 else ""
        if answer not in YES + NO:
            raise DomainError("staff.usage", usage=usage)
        act = "in1" if answer in YES else "in0"
        await perform(env, act, app_id)
        await show_card(env, message, View.CHK.value, app_id, note=env.t(f"done.{act}"))

    for name, kind in (("queue", View.PRE), ("admission", View.ADM)):
        _list_command(router, name, kind)

    @router.message(Command("alloc"))
    async def alloc_cmd(
        message: Message,
        env: Env,
    ) -> None:
        env.require(Role.BASE, Role.PROVINCE)
        await show_list(env, message, View.ALC.value, 0)

    return router


YES = ("yes", "y", "1", "是", "已报到")
NO = ("no", "n", "0", "否", "未报到")


def _list_command(router: Router, name: str, view: View) -> None:
    @router.message(Command(name))
    async def handler(
        message: Message,
        env: Env,
    ) -> None:
        env.require(*queues.VIEW_ROLES[view])
        await show_list(env, message, view.value, 0)
