"""What the application form (报名表) holds: every field of the application and of the profile
it was made with, worded in the trainee's language, for `bot.application_form` to lay out.

ID and phone numbers are masked as in the chat (first two and last four characters of the ID):
the file travels through Telegram's servers and is easily forwarded; the base and the
commissions have the full number in the system."""

from __future__ import annotations

from typing import Any

from bot.application_form import ApplicationForm, Fields, Records
from bot.i18n import Translator
from handlers.trainee.ui import specialty_name
from handlers.trainee.views import names, status_label
from storage.models import Application
from workflow import profile
from workflow.actor import Actor
from workflow.context import Ctx
from workflow.enums import EducationLevel
from workflow.identity import mask_id, mask_phone


def _yes_no(i18n: Translator, value: Any) -> str:
    if value is None:
        return "—"
    return i18n("common.yes") if value else i18n("common.no")


def _text(value: Any) -> str:
    return "—" if value is None or value == "" else str(value)


async def application_form(
    ctx: Ctx, actor: Actor, i18n: Translator, app: Application
) -> ApplicationForm:
    n = await names(ctx, app)
    view = await profile.view(ctx, actor)
    p = view.profile
    decrypt = ctx.cipher.decrypt
    number = decrypt("id_number", p.id_number_enc)
    phone = decrypt("phone", p.phone_enc) if p.phone_enc else None
    emergency = decrypt("emergency_phone", p.emergency_phone_enc) if p.emergency_phone_enc else None
    label = i18n

    def dt(value: Any) -> str:
        return i18n.datetime(value) if value is not None else "—"

    sup = app.supplement or {}
    blocks: list[Fields | Records] = [
        Fields(
            label("trainee.form.block_application"),
            [
                (label("trainee.app.batch"), n.batch.name),
                (label("trainee.form.cohort"), str(n.batch.cohort_year)),
                (label("trainee.form.program"), i18n.label("program", n.batch.program)),
                (
                    label("label.field.personnel_type"),
                    i18n.label("ptype", app.personnel_type or ""),
                ),
                (label("trainee.app.status"), status_label(i18n, app)),
                (label("trainee.form.submitted_at"), dt(app.submitted_at)),
                (
                    label("trainee.app.period"),
                    f"{dt(n.batch.apply_start)} — {dt(n.batch.apply_end)}",
                ),
                (label("trainee.form.application_no"), str(app.id)),
            ],
        ),
        Fields(
            label("trainee.profile.module.basic"),
            [
                (label("label.field.name"), p.name),
                (
                    label("label.field.gender"),
                    label(f"trainee.profile.gender.{p.gender}") if p.gender else "—",
                ),
                (label("trainee.form.id_type"), i18n.label("id_type", p.id_type)),
                (label("trainee.form.id_number"), mask_id(number)),
                (label("label.field.birth_date"), _text(p.birth_date)),
                (label("label.field.ethnicity"), _text(p.ethnicity)),
                (label("label.field.political_status"), _text(p.political_status)),
            ],
        ),
        Fields(
            label("trainee.profile.module.contact"),
            [
                (label("trainee.profile.phone"), mask_phone(phone) if phone else "—"),
                (label("label.field.email"), _text(p.email)),
                (label("label.field.emergency_name"), _text(p.emergency_name)),
                (label("label.field.emergency_phone"), mask_phone(emergency) if emergency else "—"),
                (label("label.field.address"), _text(p.address)),
            ],
        ),
        Records(
            label("trainee.profile.module.education"),
            [
                label("label.field.school"),
                label("label.field.major"),
                label("label.field.level"),
                label("trainee.form.dates"),
                label("trainee.form.flags"),
            ],
            [
                [
                    r.school,
                    r.major,
                    label(f"trainee.profile.level.{EducationLevel(r.level).value}"),
                    f"{r.start_date} — {r.end_date}",
                    label("trainee.sep").join(
                        label(f"label.field.{f}") for f in profile.EDUCATION_FLAGS if getattr(r, f)
                    )
                    or "—",
                ]
                for r in view.education
            ],
        ),
        Records(
            label("trainee.form.work_block", answer=_yes_no(i18n, p.has_work_unit)),
            [
                label("label.field.unit_name"),
                label("label.field.position"),
                label("trainee.form.dates"),
                label("trainee.profile.is_current"),
            ],
            [
                [
                    r.unit_name,
                    _text(r.position),
                    f"{r.start_date} — {r.end_date or label('trainee.profile.until_now')}",
                    _yes_no(i18n, r.is_current),
                ]
                for r in view.work
            ],
            empty=label("trainee.profile.no_records"),
        ),
        Fields(
            label("label.step.supplement"),
            [
                (label("label.field.fresh_graduate"), _yes_no(i18n, sup.get("fresh_graduate"))),
                (
                    label("label.field.has_qualification"),
                    _yes_no(i18n, sup.get("has_qualification")),
                ),
                (label("label.field.qualification_no"), _text(sup.get("qualification_no"))),
            ],
        ),
        Fields(
            label("trainee.form.block_choice"),
            [
                (label("trainee.app.intended"), specialty_name(i18n, n.intended)),
                (label("trainee.form.specialty"), specialty_name(i18n, n.specialty)),
                (label("trainee.app.base"), n.base.name if n.base else "—"),
                (label("trainee.app.site"), n.site.name if n.site else "—"),
                (label("trainee.app.reassignment"), _yes_no(i18n, app.accept_reassignment)),
            ],
        ),
    ]
    now = ctx.now()
    return ApplicationForm(
        title=label("trainee.form.title"),
        subtitle=n.batch.name,
        blocks=blocks,
        notes=[label("trainee.form.note_masked"), label("trainee.form.note_generated", at=now)],
        footer=f"{p.name} · {n.batch.name} · {i18n.datetime(now)}",
    )
