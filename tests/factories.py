"""Builders for the reference data and the people that tests need, through `workflow`."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, timedelta

from stdnum.cn import ric

from storage.models import Application, Base, Batch, BatchPersonnelType, City, Plan, Specialty
from workflow import accounts, admission, application, profile, results
from workflow.actor import Actor
from workflow.context import Ctx
from workflow.enums import (
    BaseKind,
    EducationLevel,
    PersonnelType,
    PlanStatus,
    Program,
    Role,
    Supervisor,
)

_seq = itertools.count(1)


def make_id(birth: date = date(1998, 5, 1), region: str = "440106") -> str:
    """A valid 居民身份证 number with a fresh sequence."""
    body = f"{region}{birth:%Y%m%d}{next(_seq) % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def make_phone() -> str:
    return f"+86138{next(_seq) % 100_000_000:08d}"


@dataclass
class World:
    gz: City
    sz: City
    base_a: Base  # Guangzhou, supervised by the city
    site_a: Base
    base_b: Base  # Shenzhen, supervised by the province
    site_b: Base
    internal: Specialty
    pediatrics: Specialty
    batch: Batch
    staff_a: Actor
    staff_b: Actor
    city_gz: Actor
    city_sz: Actor
    province: Actor


async def add(ctx: Ctx, row):  # type: ignore[no-untyped-def]
    ctx.session.add(row)
    await ctx.session.flush()
    return row


async def make_batch(
    ctx: Ctx,
    *,
    name: str = "2026年住培招收（第一批）",
    program: Program = Program.RESIDENCY,
    cohort_year: int = 2026,
    opens: timedelta = timedelta(days=-1),
    closes: timedelta = timedelta(days=10),
    confirm_from: timedelta = timedelta(0),
    confirm_until: timedelta = timedelta(days=20),
    types: tuple[PersonnelType, ...] = tuple(PersonnelType),
    lock_hours: int = 12,
) -> Batch:
    now = ctx.now()
    batch = await add(
        ctx,
        Batch(
            program=program,
            name=name,
            cohort_year=cohort_year,
            apply_start=now + opens,
            apply_end=now + closes,
            confirm_start=now + confirm_from,
            confirm_end=now + confirm_until,
            lock_hours=lock_hours,
            notes="请按照住培基地录取结果选择对应的住培基地和培训专业。",
            created_at=now,
        ),
    )
    for t in types:
        ctx.session.add(BatchPersonnelType(batch_id=batch.id, personnel_type=t))
    await ctx.session.flush()
    return batch


async def make_plan(ctx: Ctx, batch: Batch, base: Base, spec: Specialty, planned: int) -> Plan:
    return await add(
        ctx,
        Plan(
            batch_id=batch.id,
            base_id=base.id,
            specialty_id=spec.id,
            planned=planned,
            status=PlanStatus.APPROVED,
        ),
    )


async def staff(ctx: Ctx, role: Role, *, base_id=None, city_id=None, name=None) -> Actor:  # type: ignore[no-untyped-def]
    account, _token = await accounts.invite_staff(
        ctx, role, name or f"{role.value} staff", base_id=base_id, city_id=city_id
    )
    return Actor.of(account)


async def build_world(ctx: Ctx) -> World:
    gz = await add(ctx, City(code="4401", name="广州市"))
    sz = await add(ctx, City(code="4403", name="深圳市"))
    base_a = await add(
        ctx, Base(code="GZ01", name="广州市红十字会医院", kind=BaseKind.NATIONAL, city_id=gz.id)
    )
    site_a = await add(
        ctx,
        Base(
            code="GZ01-1",
            name="广州市红十字会医院",
            kind=BaseKind.LOCAL,
            parent_id=base_a.id,
            city_id=gz.id,
        ),
    )
    base_b = await add(
        ctx,
        Base(
            code="SZ01",
            name="深圳市人民医院",
            kind=BaseKind.NATIONAL,
            city_id=sz.id,
            supervisor=Supervisor.PROVINCE,
        ),
    )
    site_b = await add(
        ctx,
        Base(
            code="SZ01-1",
            name="深圳市人民医院",
            kind=BaseKind.LOCAL,
            parent_id=base_b.id,
            city_id=sz.id,
        ),
    )
    internal = await add(ctx, Specialty(code="0100", name="内科", name_en="Internal Medicine"))
    pediatrics = await add(ctx, Specialty(code="0200", name="儿科", name_en="Pediatrics"))
    batch = await make_batch(ctx)
    await make_plan(ctx, batch, base_a, internal, 2)
    await make_plan(ctx, batch, base_a, pediatrics, 1)
    await make_plan(ctx, batch, base_b, internal, 2)
    return World(
        gz=gz,
        sz=sz,
        base_a=base_a,
        site_a=site_a,
        base_b=base_b,
        site_b=site_b,
        internal=internal,
        pediatrics=pediatrics,
        batch=batch,
        staff_a=await staff(ctx, Role.BASE, base_id=base_a.id),
        staff_b=await staff(ctx, Role.BASE, base_id=base_b.id),
        city_gz=await staff(ctx, Role.CITY, city_id=gz.id),
        city_sz=await staff(ctx, Role.CITY, city_id=sz.id),
        province=await staff(ctx, Role.PROVINCE),
    )


async def make_trainee(
    ctx: Ctx,
    *,
    name: str = "张三",
    tg_user_id: int | None = None,
    complete: bool = True,
    has_work_unit: bool = False,
    program: Program = Program.RESIDENCY,
) -> Actor:
    """A registered trainee; with `complete`, all four profile modules are filled in."""
    number = make_id()
    login = f"trainee{next(_seq)}"
    account = await accounts.register_trainee(
        ctx,
        accounts.Registration(
            program=program,
            name=name,
            id_type="resident_id",  # type: ignore[arg-type]
            id_number=number,
            login_name=login,
            password="Secret123",
            phone=make_phone(),
        ),
        tg_user_id or 10_000 + next(_seq),
    )
    actor = Actor.of(account)
    if complete:
        await complete_profile(ctx, actor, has_work_unit=has_work_unit)
    return actor


async def complete_profile(ctx: Ctx, actor: Actor, *, has_work_unit: bool = False) -> None:
    await profile.set_basic(ctx, actor, "ethnicity", "汉族")
    await profile.set_basic(ctx, actor, "political_status", "群众")
    await profile.set_contact(ctx, actor, "email", "trainee@example.com")
    await profile.set_contact(ctx, actor, "address", "广州市天河区中山大道西 1 号")
    await profile.set_contact(ctx, actor, "emergency_name", "李四")
    await profile.set_contact(ctx, actor, "emergency_phone", "13900000000")
    rec = await profile.add_education(
        ctx,
        actor,
        profile.EducationInput(
            "中山大学", "临床医学", EducationLevel.BACHELOR, "2016-09-01", "2021-06-30"
        ),
    )
    await profile.set_education_flag(ctx, actor, rec.id, "is_first", True)
    await profile.set_education_flag(ctx, actor, rec.id, "is_highest", True)
    await profile.set_has_work_unit(ctx, actor, has_work_unit)
    if has_work_unit:
        await profile.add_work(
            ctx,
            actor,
            profile.WorkInput("广州市第一人民医院", "住院医师", "2021-08-01", None, True),
        )


async def submitted(
    ctx: Ctx,
    world: World,
    trainee: Actor,
    *,
    base: Base | None = None,
    site: Base | None = None,
    specialty: Specialty | None = None,
    batch: Batch | None = None,
    personnel_type: PersonnelType = PersonnelType.SOCIAL,
    reassign: bool = True,
) -> Application:
    """Walk the wizard and submit."""
    base, site = (
        base or world.base_a,
        site or (world.site_a if base in (None, world.base_a) else world.site_b),
    )
    spec = specialty or world.internal
    batch = batch or world.batch
    app = await application.start(ctx, trainee, batch.id)
    await application.choose_personnel_type(ctx, trainee, app.id, personnel_type)
    await application.confirm_info(ctx, trainee, app.id)
    await application.save_supplement(
        ctx, trainee, app.id, {"fresh_graduate": True, "has_qualification": False}
    )
    await application.finish_supplement(ctx, trainee, app.id)
    await application.choose_specialty(ctx, trainee, app.id, spec.id)
    await application.choose_base(ctx, trainee, app.id, base.id)
    await application.choose_site(ctx, trainee, app.id, site.id)
    await application.set_reassignment(ctx, trainee, app.id, reassign)
    return await application.submit(ctx, trainee, app.id)


async def sent(ctx: Ctx, world: World, trainee: Actor, **kw) -> Application:  # type: ignore[no-untyped-def]
    """Submitted, pre-admitted, admitted and sent by the base."""
    app = await submitted(ctx, world, trainee, **kw)
    staff_actor = world.staff_a if app.base_id == world.base_a.id else world.staff_b
    await admission.pre_admit(ctx, staff_actor, app.id)
    await admission.admit(ctx, staff_actor, app.id)
    await admission.send_results(ctx, staff_actor, [app.id])
    return app


async def accepted(ctx: Ctx, clock, world: World, trainee: Actor, **kw) -> Application:  # type: ignore[no-untyped-def]
    """Sent, then accepted after the lock period (moves the clock 13 hours on)."""
    app = await sent(ctx, world, trainee, **kw)
    clock.advance(hours=13)
    return await results.accept(ctx, trainee, app.id)
