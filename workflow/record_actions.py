"""The actions on one application record by the names `queues.actions_for` offers them, for
the chat's card buttons and typed commands and the Mini App's row buttons alike. 不录取 (`rej`)
takes a reason and has its own call, `admission.reject`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from workflow import admission
from workflow.actor import Actor
from workflow.context import Ctx
from workflow.queues import View

Action = Callable[[Ctx, Actor, int], Awaitable[object]]


async def _send_one(ctx: Ctx, actor: Actor, app_id: int) -> object:
    return await admission.send_results(ctx, actor, [app_id])


async def _in_yes(ctx: Ctx, actor: Actor, app_id: int) -> object:
    return await admission.check_in(ctx, actor, app_id, True)


async def _in_no(ctx: Ctx, actor: Actor, app_id: int) -> object:
    return await admission.check_in(ctx, actor, app_id, False)


# act → (workflow call, the list that offers it: its card shows the result)
ACTIONS: dict[str, tuple[Action, View]] = {
    "pre": (admission.pre_admit, View.PRE),
    "unpre": (admission.cancel_pre_admission, View.PRE),
    "adm": (admission.admit, View.ADM),
    "snd": (_send_one, View.ADM),
    "unadm": (admission.cancel_admission, View.ADM),
    "cnf": (admission.confirm_result, View.CNF),
    "in1": (_in_yes, View.CHK),
    "in0": (_in_no, View.CHK),
}
