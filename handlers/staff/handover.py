"""/handover (province): hand every record changed since the last hand-over to the national
platform, as `.xlsx` and JSON sent to the chat."""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, FSInputFile, Message

from bot.handover import run_handover
from bot.i18n import Translator
from handlers.staff.common import Env, Event, chat_of, make_env, reply
from workflow.actor import Actor
from workflow.context import Ctx
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
    router = Router(name="staff-handover")

    @router.message(Command("handover"))
    async def handover_cmd(
        message: Message,
        ctx: Ctx,
        actor: Actor | None,
        i18n: Translator,
        state: FSMContext,
        bot: Bot,
    ) -> None:
        env = await make_env(ctx, actor, i18n, state, bot, Role.PROVINCE)
        await do_handover(env, message)

    return router
