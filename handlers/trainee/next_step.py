"""The trainee's /start once registered: a greeting, the one next step (the most urgent first,
from workflow.next_step) with its deadline, and the buttons that lead there."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.durations import time_left
from bot.i18n import Translator
from bot.notice_buttons import calendar_button
from handlers.trainee.cb import ApplyCb, ProfileCb, StatusCb, YearsCb
from handlers.trainee.status import offer_buttons, result_buttons
from handlers.trainee.ui import button, markup
from storage.models import Account, Application
from workflow import next_step
from workflow.actor import Actor
from workflow.context import Ctx


async def screen(
    ctx: Ctx, actor: Actor, account: Account, i18n: Translator
) -> tuple[str, InlineKeyboardMarkup]:
    step = await next_step.trainee_next(ctx, actor)
    now = ctx.now()
    params: dict[str, object] = {"batch": step.batch or ""}
    if step.at is not None:
        params |= {"at": step.at, "left": time_left(i18n, step.at - now)}
    lines = [
        i18n("start.hello", name=account.display_name),
        "",
        i18n(f"start.next.{step.kind}", **params),
    ]
    rows: list[list[InlineKeyboardButton]] = []
    if step.kind == "offer" and step.offer_id:
        rows.append(offer_buttons(i18n, step.offer_id))
    elif step.kind == "answer" and step.application_id:
        app = await ctx.get(Application, step.application_id)
        rows += result_buttons(i18n, app, now)
    elif step.kind == "resume":
        rows.append(
            [button(i18n("start.go.resume"), ApplyCb(a="resume", app=step.application_id or 0))]
        )
    elif step.kind == "profile":
        rows.append([button(i18n("start.go.profile"), ProfileCb(a="fix"))])
    elif step.kind == "years":
        rows.append([button(i18n("start.go.years"), YearsCb(a="show"))])
    elif step.kind == "apply":
        rows.append([button(i18n("start.go.apply"), ApplyCb(a="batches"))])
    rows.append([button(i18n("start.go.status"), StatusCb(a="show")), calendar_button(i18n)])
    return "\n".join(lines), markup(*rows)
