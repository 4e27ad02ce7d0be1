"""How an application reads in the chat: its names (batch, specialty, bases), the choice, the
supplementary answers and the result. Shared by the wizard, the status card, the notices and the
application form."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.i18n import Translator
from handlers.trainee.ui import specialty_name
from storage.models import Application, Base, Batch, Specialty
from workflow.context import Ctx
from workflow.enums import ApplicationStatus


@dataclass(frozen=True)
class AppNames:
    batch: Batch
    intended: Specialty | None
    specialty: Specialty | None
    base: Base | None
    site: Base | None


async def names(ctx: Ctx, app: Application) -> AppNames:
    async def get(model: Any, ident: int | None) -> Any:
        return await ctx.session.get(model, ident) if ident is not None else None

    return AppNames(
        batch=await ctx.get(Batch, app.batch_id),
        intended=await get(Specialty, app.intended_specialty_id),
        specialty=await get(Specialty, app.specialty_id),
        base=await get(Base, app.base_id),
        site=await get(Base, app.site_id),
    )


def row(i18n: Translator, label_key: str, value: Any) -> str:
    return i18n("trainee.row", label=i18n(label_key), value=value)


def _or_dash(value: Any) -> Any:
    return "—" if value is None or value == "" else value


def batch_lines(i18n: Translator, app: Application, n: AppNames) -> list[str]:
    b = n.batch
    return [
        row(i18n, "trainee.app.batch", b.name),
        row(
            i18n,
            "trainee.app.period",
            i18n("trainee.app.range", start=b.apply_start, end=b.apply_end),
        ),
    ]


def choice_lines(i18n: Translator, app: Application, n: AppNames) -> list[str]:
    ptype = i18n.label("ptype", app.personnel_type) if app.personnel_type else "—"
    reassign = "—" if app.accept_reassignment is None else app.accept_reassignment
    return [
        row(i18n, "label.field.personnel_type", ptype),
        row(i18n, "trainee.app.intended", specialty_name(i18n, n.intended)),
        row(i18n, "trainee.app.base", _or_dash(n.base.name if n.base else None)),
        row(i18n, "trainee.app.site", _or_dash(n.site.name if n.site else None)),
        row(i18n, "trainee.app.reassignment", reassign),
    ]


def supplement_lines(i18n: Translator, app: Application) -> list[str]:
    sup = app.supplement or {}
    return [
        row(i18n, "label.field.fresh_graduate", _or_dash(sup.get("fresh_graduate"))),
        row(i18n, "label.field.has_qualification", _or_dash(sup.get("has_qualification"))),
        row(i18n, "label.field.qualification_no", _or_dash(sup.get("qualification_no"))),
    ]


def result_line(i18n: Translator, app: Application) -> str:
    """第一志愿录取结果: what the base decided, in the guide's words."""
    status = ApplicationStatus(app.status)
    if status in _NO_RESULT_YET:
        key = "trainee.app.result_pending"
    elif status is ApplicationStatus.NOT_ADMITTED:
        key = "trainee.app.result_not_admitted"
    else:
        key = "trainee.app.result_admitted"
    return row(i18n, "trainee.app.result", i18n(key))


# Before a result is sent the trainee sees no result: an admission not sent yet still reads as
# pre-admitted (the base may change it until it sends).
_NO_RESULT_YET = (
    ApplicationStatus.DRAFT,
    ApplicationStatus.SUBMITTED,
    ApplicationStatus.PRE_ADMITTED,
    ApplicationStatus.ADMITTED,
)


def status_label(i18n: Translator, app: Application) -> str:
    """报名状态 as the trainee sees it."""
    status = ApplicationStatus(app.status)
    if status is ApplicationStatus.ADMITTED:
        status = ApplicationStatus.PRE_ADMITTED
    return i18n.label("status", status.value)
