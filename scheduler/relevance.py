"""Whether a queued notice still says something true when its turn comes.

Notices are rendered at send time, and most renderers already return None when their subject
moved on. This is the check the sender makes for every row before its renderer, against the
current database state, for the workflow's notices whose renderer cannot tell: a notice of a
change that a later change undid or overtook (an admission result cancelled and sent again, a
pre-admission withdrawn and granted again) is dropped, since the later change's own notice says
where the subject stands now. Together with the claim's per-subject order (scheduler/outbox.py)
a recipient never reads an older state after a newer one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from storage.models import Application, OutboxMessage
from workflow.context import Ctx
from workflow.enums import ApplicationStatus as S
from workflow.enums import CheckIn

Check = Callable[[Ctx, OutboxMessage], Awaitable[bool]]

_CHECKS: dict[str, Check] = {}


def _application_id(row: OutboxMessage) -> int | None:
    prefix, _, ident = (row.subject or "").partition(":")
    return int(ident) if prefix == "application" and ident.isdigit() else None


def while_application(kind: str, *states: S, unsent: bool = False) -> None:
    """`kind` (about "application:N") is still true only while the application is in one of
    `states` (and, with `unsent`, while no result of it is out)."""

    async def check(ctx: Ctx, row: OutboxMessage) -> bool:
        app_id = _application_id(row)
        app = await ctx.session.get(Application, app_id) if app_id else None
        if app is None or S(app.status) not in states:
            return False
        return not (unsent and app.sent_at is not None)

    _CHECKS[kind] = check


async def _checked_in(ctx: Ctx, row: OutboxMessage) -> bool:
    app_id = _application_id(row)
    app = await ctx.session.get(Application, app_id) if app_id else None
    if app is None or S(app.status) is not S.CONFIRMED or app.checkin is None:
        return False
    reported = bool((row.payload or {}).get("reported"))
    return (CheckIn(app.checkin) is CheckIn.REPORTED) == reported


# 取消录取 "… 将重新发送": moot once a result is out again or the trainee answered.
while_application("result_cancelled", S.PRE_ADMITTED, S.ADMITTED, unsent=True)
while_application("pre_admission_cancelled", S.SUBMITTED)
while_application("result_confirmed", S.CONFIRMED)
while_application("base_result_accepted", S.ACCEPTED, S.CONFIRMED)
while_application("base_result_declined", S.DECLINED)
while_application("base_result_confirmed", S.CONFIRMED)
_CHECKS["checked_in"] = _checked_in


async def still_relevant(ctx: Ctx, row: OutboxMessage) -> bool:
    check = _CHECKS.get(row.kind)
    return True if check is None else await check(ctx, row)
