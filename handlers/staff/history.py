"""/history <kind> <id>: a record's audit log, for the staff whose scope covers it."""

from __future__ import annotations

import html

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message

from handlers.staff.common import Env, Event, HistCb, int_arg, reply, staff_router
from workflow import history
from workflow.errors import DomainError


async def show_history(env: Env, event: Event, kind: str, entity_id: int) -> None:
    entries = await history.history(env.ctx, env.actor, kind, entity_id)
    out = [env.t("history.title", kind=env.t(f"history.kind.{kind}"), id=entity_id)]
    for e in entries:
        who = html.escape(e.actor_name, quote=False) if e.actor_name else env.t("history.system")
        if e.actor_role:
            who = f"{who}（{env.i18n.label('role', e.actor_role)}）"
        key = f"history.action.{e.action}"
        action = env.t(key) if env.i18n.has(f"staff.{key}") else html.escape(e.action)
        change = ""
        if e.from_state or e.to_state:
            change = f" {_state(env, e.from_state)} → {_state(env, e.to_state)}"
        line = f"{env.when(e.at)} · {who} · {action}{change}"
        if e.entity != history.ENTITIES[kind]:
            line += f" [{env.i18n.label('entity', e.entity)} #{e.entity_id}]"
        if e.reason:
            line += "\n    " + env.t("history.reason", reason=e.reason)
        out.append(line)
    if not entries:
        out.append(env.t("list.empty"))
    await reply(event, "\n".join(out), new=True)


def _state(env: Env, value: str | None) -> str:
    if not value:
        return "—"
    if env.i18n.has(f"label.status.{value}"):
        return env.i18n.label("status", value)
    for family in ("checkin", "plan", "training"):
        if env.i18n.has(f"staff.lbl.{family}.{value}"):
            return env.t(f"lbl.{family}.{value}")
    return html.escape(value, quote=False)


def build_router() -> Router:
    router = staff_router(name="staff-history")

    @router.message(Command("history"))
    async def history_cmd(
        message: Message,
        command: CommandObject,
        env: Env,
    ) -> None:
        parts = (command.args or "").split()
        usage = env.t("usage.history")
        if len(parts) != 2:
            raise DomainError("staff.usage", usage=usage)
        await show_history(env, message, parts[0].lower(), int_arg(parts[1], usage=usage))

    @router.callback_query(HistCb.filter())
    async def on_history(
        query: CallbackQuery,
        callback_data: HistCb,
        env: Env,
    ) -> None:
        await show_history(env, query, callback_data.kind, callback_data.id)

    return router
