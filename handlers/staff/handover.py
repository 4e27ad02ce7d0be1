"""/handover (province): hand every record changed since the last hand-over to the national
platform, as `.xlsx` and JSON sent to the chat."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, FSInputFile, Message

from bot.handover import run_handover
from handlers.staff.common import Env, Event, chat_of, reply, staff_router
from workflow.enums import Role


async def do_handover(env: Env, event: Event) -> None:
    out_dir = env.ctx.upload_dir.parent / "handover"
    result = await run_handover(env.ctx, env.actor, out_dir)
    await env.ctx.session.commit()
    since = env.when(result.since) if result.since else env.t("handover.first")
    await reply(
        event,
        env.t("handover.done", n=result.rows, since=since, until=env.when(result.until)),
        new=isinstance(event, CallbackQuery),
    )
    for path in (result.xlsx, result.json):
        await env.bot.send_document(chat_of(event), FSInputFile(path, filename=path.name))


def build_router() -> Router:
    router = staff_router(name="staff-handover")

    @router.message(Command("handover"))
    async def handover_cmd(
        message: Message,
        env: Env,
    ) -> None:
        env.require(Role.PROVINCE)
        await do_handover(env, message)

    return router
