"""Numbers at a glance for base staff and commissions: per specialty of a batch, the plan
against applicants, pre-admitted, admitted, sent, accepted and confirmed, as a table and as a
chart sent as a photo."""

from __future__ import annotations

import asyncio

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot import charts
from bot.keyboards import pager_row
from handlers.staff.callbacks import StatsCb
from handlers.staff.common import (
    Env,
    Event,
    button,
    chat_of,
    int_arg,
    menu_back,
    reply,
    staff_router,
)
from storage.models import Batch
from workflow import queues, stats

WIDTHS = (4, 5, 5, 5, 5, 5, 5)


def table(env: Env, rows: list[stats.StatRow]) -> str:
    """A fixed-width table in <pre>: specialty names on their own line, numbers aligned."""
    heads = [env.t(f"stats.col.{c}") for c in stats.COLUMNS]
    out = [env.t("stats.legend", cols=" / ".join(heads))]
    for r in rows:
        out.append(f"{r.specialty}")
        out.append(
            "  " + " ".join(str(v).rjust(w) for v, w in zip(r.values(), WIDTHS, strict=True))
        )
    total = stats.totals(rows)
    out.append(env.t("stats.total"))
    out.append("  " + " ".join(str(v).rjust(w) for v, w in zip(total, WIDTHS, strict=True)))
    import html

    return "<pre>" + html.escape("\n".join(out), quote=False) + "</pre>"


async def pick_batch(env: Env, event: Event, page: int = 0) -> None:
    result = await queues.batches(env.ctx, page)
    kb = InlineKeyboardBuilder()
    for b in result.rows:
        kb.row(button(b.name, StatsCb(batch=b.id or 0)))
    pager = pager_row(env.i18n, result.page, result.pages, lambda p: StatsCb(batch=0, page=p))
    if pager:
        kb.row(*pager)
    kb.row(*menu_back(env.i18n))
    await reply(event, env.t("stats.pick_batch"), kb.as_markup())


async def show_stats(env: Env, event: Event, batch_id: int) -> None:
    batch = await env.ctx.get(Batch, batch_id)
    rows = await stats.per_specialty(env.ctx, env.actor, batch_id)
    scope = await queues.scope_label(env.ctx, env.actor) or env.t("stats.province")
    title = env.t("stats.title", batch=batch.name, scope=scope)
    text = title + "\n" + (table(env, rows) if rows else env.t("list.empty"))
    kb = InlineKeyboardBuilder()
    kb.row(*menu_back(env.i18n))
    await reply(event, text, kb.as_markup(), new=isinstance(event, CallbackQuery))
    if rows:
        labels = {c: env.t(f"stats.col.{c}") for c in stats.COLUMNS}
        png = await asyncio.to_thread(charts.stats_chart, rows, labels, f"{batch.name} · {scope}")
        await env.bot.send_photo(
            chat_of(event),
            BufferedInputFile(png, filename="stats.png"),
            caption=env.t("stats.caption", batch=batch.name),
        )


def build_router() -> Router:
    router = staff_router(name="staff-stats")

    @router.message(Command("stats"))
    async def stats_cmd(
        message: Message,
        command: CommandObject,
        env: Env,
    ) -> None:
        if command.args:
            await show_stats(env, message, int_arg(command.args, usage=env.t("usage.stats")))
        else:
            await pick_batch(env, message)

    @router.callback_query(StatsCb.filter())
    async def on_stats(
        query: CallbackQuery,
        callback_data: StatsCb,
        env: Env,
    ) -> None:
        if callback_data.batch:
            await show_stats(env, query, callback_data.batch)
        else:
            await pick_batch(env, query, callback_data.page)

    return router
