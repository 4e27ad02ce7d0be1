"""The people one can play in the sandbox: trainees at four stages of the workflow, staff of
two bases, the city reviewer and the province. Each has its own Telegram user (its own chat)
and its own phone number, so sharing the contact works for each.

The later-stage trainees are brought to their stage through the workflow's own functions, as
a trainee and the base would (register, fill in the profile, apply, pre-admit, admit, send);
the staff open their invitation link in their chat, as staff do."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import timedelta

from sqlalchemy import select
from stdnum.cn import ric

from reference.demo_data import DEMO_BASE, STAFF
from storage.models import Account, Base, Batch, Specialty
from workflow import accounts, admission, application, profile
from workflow.actor import Actor
from workflow.context import Ctx
from workflow.enums import EducationLevel, IdType, PersonnelType, Program, Role

SECOND_BASE = "GD440101"  # 中山大学附属第一医院, supervised by the province
SECOND_BASE_STAFF = "演示基地管理员（中山大学附属第一医院）"
DEMO_SPECIALTY = "0100"  # 内科


@dataclass(frozen=True)
class Persona:
    key: str
    user_id: int
    first_name: str
    phone: str
    role: str  # trainee | base | city | province
    stage: str  # what the page says of it (a key of its dictionaries)
    staff_name: str | None = None  # the demo account a staff persona is invited to

    def view(self) -> dict[str, object]:
        shown = asdict(self)
        shown.pop("staff_name")
        return shown


PERSONAS: tuple[Persona, ...] = (
    Persona("new", 10_001, "王小明", "+8613800138001", "trainee", "new"),
    Persona("profile", 10_002, "李华", "+8613800138002", "trainee", "half_profile"),
    Persona("submitted", 10_003, "陈静", "+8613800138003", "trainee", "submitted"),
    Persona("admitted", 10_004, "刘洋", "+8613800138004", "trainee", "admitted"),
    Persona("base", 20_001, "赵老师", "+8613800138011", "base", "base_gz", STAFF[0][1]),
    Persona("base2", 20_002, "孙老师", "+8613800138012", "base", "base_zs", SECOND_BASE_STAFF),
    Persona("city", 30_001, "周审核", "+8613800138021", "city", "city", STAFF[1][1]),
    Persona("province", 40_001, "吴处长", "+8613800138031", "province", "province", STAFF[2][1]),
)
BY_KEY = {p.key: p for p in PERSONAS}

_ID_BODIES = {"profile": "44010619980501002", "submitted": "44010619970312003",
              "admitted": "44010619961120004"}  # fmt: skip


def id_number(key: str) -> str:
    body = _ID_BODIES[key]
    return body + ric.calc_check_digit(body + "0")


async def _one(ctx: Ctx, model: type, **where: object):  # type: ignore[no-untyped-def]
    query = select(model)
    for name, value in where.items():
        query = query.where(getattr(model, name) == value)
    found = await ctx.session.scalar(query.limit(1))
    if found is None:
        raise LookupError(f"{model.__name__} {where} is not in the demo data")
    return found


async def staff_invitations(ctx: Ctx, ttl: timedelta) -> dict[str, str]:
    """A fresh invitation token for each staff persona's demo account (the second base's
    account is created here)."""
    tokens: dict[str, str] = {}
    for persona in PERSONAS:
        if persona.staff_name is None:
            continue
        account = await ctx.session.scalar(
            select(Account).where(Account.display_name == persona.staff_name).limit(1)
        )
        if account is None:
            base = await _one(ctx, Base, code=SECOND_BASE)
            account, token = await accounts.invite_staff(
                ctx, Role.BASE, persona.staff_name, base_id=base.id, ttl=ttl, created_by="sandbox"
            )
        else:
            token = await accounts.reinvite(ctx, account, ttl=ttl, created_by="sandbox")
        tokens[persona.key] = token
    return tokens


async def _register(ctx: Ctx, persona: Persona) -> Actor:
    account = await accounts.register_trainee(
        ctx,
        accounts.Registration(
            program=Program.RESIDENCY,
            name=persona.first_name,
            id_type=IdType.RESIDENT_ID,
            id_number=id_number(persona.key),
            login_name=f"demo_{persona.key}",
            password="Demo2026pass",
            phone=persona.phone,
        ),
        persona.user_id,
    )
    return Actor.of(account)


async def _fill_basic(ctx: Ctx, actor: Actor) -> None:
    await profile.set_basic(ctx, actor, "ethnicity", "汉族")
    await profile.set_basic(ctx, actor, "political_status", "群众")
    await profile.set_contact(ctx, actor, "email", "demo@example.com")


async def _fill_rest(ctx: Ctx, actor: Actor) -> None:
    await profile.set_contact(ctx, actor, "address", "广州市越秀区中山二路 58 号")
    await profile.set_contact(ctx, actor, "emergency_name", "王芳")
    await profile.set_contact(ctx, actor, "emergency_phone", "13900000000")
    record = await profile.add_education(
        ctx,
        actor,
        profile.EducationInput(
            "中山大学", "临床医学", EducationLevel.BACHELOR, "2020-09-01", "2025-06-30"
        ),
    )
    await profile.set_education_flag(ctx, actor, record.id, "is_first", True)
    await profile.set_education_flag(ctx, actor, record.id, "is_highest", True)
    await profile.set_has_work_unit(ctx, actor, False)


async def _apply(ctx: Ctx, actor: Actor) -> int:
    national = await _one(ctx, Base, code=DEMO_BASE)
    site = await _one(ctx, Base, parent_id=national.id)
    specialty = await _one(ctx, Specialty, code=DEMO_SPECIALTY)
    batch = await _one(ctx, Batch, program=Program.RESIDENCY)
    app = await application.start(ctx, actor, batch.id)  # type: ignore[arg-type]
    await application.choose_personnel_type(ctx, actor, app.id, PersonnelType.SOCIAL)
    await application.confirm_info(ctx, actor, app.id)
    await application.save_supplement(
        ctx, actor, app.id, {"fresh_graduate": True, "has_qualification": False}
    )
    await application.finish_supplement(ctx, actor, app.id)
    await application.choose_specialty(ctx, actor, app.id, specialty.id)
    await application.choose_base(ctx, actor, app.id, national.id)
    await application.choose_site(ctx, actor, app.id, site.id)
    await application.set_reassignment(ctx, actor, app.id, True)
    submitted = await application.submit(ctx, actor, app.id)
    assert submitted.id is not None
    return submitted.id


async def _base_staff(ctx: Ctx) -> Actor:
    account = await _one(ctx, Account, display_name=STAFF[0][1])
    return Actor.of(account)


async def prepare_trainee(ctx: Ctx, persona: Persona) -> None:
    """Bring a trainee persona to its stage (the "new" one stays unregistered)."""
    if persona.stage == "new":
        return
    actor = await _register(ctx, persona)
    await _fill_basic(ctx, actor)
    if persona.stage == "half_profile":
        return
    await _fill_rest(ctx, actor)
    application_id = await _apply(ctx, actor)
    if persona.stage == "submitted":
        return
    staff = await _base_staff(ctx)
    await admission.pre_admit(ctx, staff, application_id)
    await admission.admit(ctx, staff, application_id)
    await admission.send_results(ctx, staff, [application_id])
