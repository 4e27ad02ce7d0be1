"""学员信息变更申请 and 学员培训状态变更申请 (`workflow.changes`): filed by the base, decided by
the commission."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import select

from storage.models import Application, ChangeRequest, Training, WorkRecord
from tests.conftest import CtxFactory
from tests.factories import World, accepted, make_trainee
from tests.workflow.helpers import audit_rows, kinds, outbox, refused, reread, run
from workflow import admission, changes, training
from workflow.actor import Actor
from workflow.clock import FrozenClock
from workflow.enums import ApplicationStatus as S
from workflow.enums import ChangeKind as K
from workflow.enums import ChangeStatus, TrainingStatus
from workflow.enums import PersonnelType as P


@dataclass
class Admitted:
    actor: Actor
    app_id: int
    training_id: int | None


async def confirmed(
    make_ctx: CtxFactory,
    clock: FrozenClock,
    world: World,
    *,
    ptype: P = P.SOCIAL,
    start: date | None = date(2026, 7, 1),
    check_in: bool = True,
) -> Admitted:
    """Admitted at base_a, confirmed by the city, checked in, years set from `start`."""
    async with make_ctx() as ctx:
        actor = await make_trainee(ctx, has_work_unit=ptype in (P.OWN_UNIT, P.ENTRUSTED))
        app = await accepted(ctx, clock, world, actor, personnel_type=ptype)
        await admission.confirm_result(ctx, world.city_gz, app.id)
        if not check_in:
            return Admitted(actor, app.id, None)
        await admission.check_in(ctx, world.staff_a, app.id, True)
        t = await ctx.session.scalar(select(Training).where(Training.application_id == app.id))
        assert t is not None and t.id is not None
        if start is not None:
            await training.set_years(ctx, world.staff_a, t.id, 3, start)
    return Admitted(actor, app.id, t.id)


async def file(make_ctx: CtxFactory, world: World, app_id: int, kind: K, value: str) -> int:
    row = await run(make_ctx, lambda ctx: changes.file(ctx, world.staff_a, app_id, kind, value))
    assert row.id is not None
    return row.id


async def approve(make_ctx: CtxFactory, who: Actor, change_id: int) -> None:
    await run(make_ctx, lambda ctx: changes.decide(ctx, who, change_id, True))


# --- filing -----------------------------------------------------------------------------------


async def test_file_only_for_a_confirmed_admission(
    make_ctx: CtxFactory, world: World, clock: FrozenClock
) -> None:
    async with make_ctx() as ctx:
        app = await accepted(ctx, clock, world, await make_trainee(ctx))
    e = await refused(
        make_ctx, lambda ctx: changes.file(ctx, world.staff_a, app.id, K.PERSONNEL_TYPE, "own_unit")
    )
    assert e.code == "change.not_admitted"


async def test_file_only_by_the_admitting_base(
    make_ctx: CtxFactory, world: World, clock: FrozenClock
) -> None:
    a = await confirmed(make_ctx, clock, world)
    for who, code in [
        (world.staff_b, "forbidden.other_base"),
        (world.city_gz, "forbidden.role"),
        (world.province, "forbidden.role"),
        (a.actor, "forbidden.role"),
    ]:
        e = await refused(make_ctx, lambda ctx, w=who: changes.file(ctx, w, a.app_id, K.PAUSE, ""))
        assert e.code == code
    async with make_ctx() as ctx:
        assert (await ctx.session.scalars(select(ChangeRequest))).first() is None


async def test_filed_request_is_pending_and_audited(
    make_ctx: CtxFactory, world: World, clock: FrozenClock
) -> None:
    a = await confirmed(make_ctx, clock, world, ptype=P.ENTRUSTED)
    cid = await file(make_ctx, world, a.app_id, K.PERSONNEL_TYPE, "own_unit")
    row = await reread(make_ctx, ChangeRequest, cid)
    assert (row.status, row.kind, row.old_value, row.new_value, row.base_id, row.filed_by) == (
        ChangeStatus.PENDING,
        K.PERSONNEL_TYPE,
        "entrusted",
        "own_unit",
        world.base_a.id,
        world.staff_a.account_id,
    )
    audit = (await audit_rows(make_ctx, "change_request", cid))[-1]
    assert (audit.action, audit.to_state, audit.detail) == (
        "file",
        "pending",
        {"kind": "personnel_type"},
    )


async def test_one_pending_request_per_kind(
    make_ctx: CtxFactory, world: World, clock: FrozenClock
) -> None:
    a = await confirmed(make_ctx, clock, world)
    await file(make_ctx, world, a.app_id, K.SPECIALTY, str(world.pediatrics.id))
    e = await refused(
        make_ctx,
        lambda ctx: changes.file(ctx, world.staff_a, a.app_id, K.SPECIALTY, str(world.internal.id)),
    )
    assert e.code == "change.pending"
    await file(make_ctx, world, a.app_id, K.PAUSE, "")  # another kind is fine


# --- deciding ---------------------------------------------------------------------------------


async def test_refusal_needs_a_reason_and_changes_nothing(
    make_ctx: CtxFactory, world: World, clock: FrozenClock
) -> None:
    a = await confirmed(make_ctx, clock, world)
    cid = await file(make_ctx, world, a.app_id, K.SPECIALTY, str(world.pediatrics.id))
    for reason in (None, " "):
        e = await refused(
            make_ctx, lambda ctx, r=reason: changes.decide(ctx, world.city_gz, cid, False, r)
        )
        assert e.code == "reason.required"
    assert (await reread(make_ctx, ChangeRequest, cid)).status == ChangeStatus.PENDING
    await run(make_ctx, lambda ctx: changes.decide(ctx, world.city_gz, cid, False, "材料不全"))
    row = await reread(make_ctx, ChangeRequest, cid)
    assert (row.status, row.reason, row.decided_by, row.decided_at) == (
        ChangeStatus.REFUSED,
        "材料不全",
        world.city_gz.account_id,
        clock.now(),
    )
    assert (await reread(make_ctx, Application, a.app_id)).specialty_id == world.internal.id
    (notice,) = await outbox(make_ctx, account_id=a.actor.account_id, kind="change_decided")
    assert notice.payload == {"approved": False, "change": "specialty"}
    assert (await kinds(make_ctx, world.staff_a.account_id))[-1] == "base_change_decided"
    audit = (await audit_rows(make_ctx, "change_request", cid))[-1]
    assert (audit.action, audit.to_state, audit.reason) == ("decide", "refused", "材料不全")


async def test_decided_by_the_commission_of_the_bases_city(
    make_ctx: CtxFactory, world: World, clock: FrozenClock
) -> None:
    a = await confirmed(make_ctx, clock, world)
    cid = await file(make_ctx, world, a.app_id, K.PAUSE, "")
    for who, code in [
        (world.city_sz, "forbidden.other_city"),
        (world.staff_a, "forbidden.role"),
        (a.actor, "forbidden.role"),
    ]:
        e = await refused(make_ctx, lambda ctx, w=who: changes.decide(ctx, w, cid, True))
        assert e.code == code
    assert (await reread(make_ctx, ChangeRequest, cid)).status == ChangeStatus.PENDING
    await approve(make_ctx, world.province, cid)  # the province decides for every city
    assert (await reread(make_ctx, ChangeRequest, cid)).status == ChangeStatus.APPROVED
    e = await refused(make_ctx, lambda ctx: changes.decide(ctx, world.city_gz, cid, True))
    assert (e.code, e.params) == ("change.decided", {"status": "approved"})


# --- 学员信息变更 -------------------------------------------------------------------------------


async def test_personnel_type_change_is_applied_on_approval(
    make_ctx: CtxFactory, world: World, clock: FrozenClock
) -> None:
    a = await confirmed(make_ctx, clock, world, ptype=P.OWN_UNIT)
    cid = await file(make_ctx, world, a.app_id, K.PERSONNEL_TYPE, "entrusted")
    assert (await reread(make_ctx, Application, a.app_id)).personnel_type == P.OWN_UNIT
    await approve(make_ctx, world.city_gz, cid)
    assert (await reread(make_ctx, Application, a.app_id)).personnel_type == P.ENTRUSTED
    (notice,) = await outbox(make_ctx, account_id=a.actor.account_id, kind="change_decided")
    assert notice.payload == {"approved": True, "change": "personnel_type"}


@pytest.mark.parametrize(
    ("ptype", "new", "code"),
    [
        (P.MASTERS, "social", "change.type_not_changeable"),
        (P.SOCIAL, "masters", "change.type_not_changeable"),
        (P.SOCIAL, "delegated", "change.type_not_changeable"),
        (P.SOCIAL, "nobody", "field.choice"),
        # own-unit staff name their current unit: a social recruit without one can't become it
        (P.SOCIAL, "own_unit", "apply.needs_current_unit"),
    ],
)
async def test_personnel_type_change_refusals(
    make_ctx: CtxFactory, world: World, clock: FrozenClock, ptype: P, new: str, code: str
) -> None:
    a = await confirmed(make_ctx, clock, world, ptype=ptype)
    e = await refused(
        make_ctx, lambda ctx: changes.file(ctx, world.staff_a, a.app_id, K.PERSONNEL_TYPE, new)
    )
    assert e.code == code


async def test_sending_unit_change_renames_the_current_unit(
    make_ctx: CtxFactory, world: World, clock: FrozenClock
) -> None:
    a = await confirmed(make_ctx, clock, world, ptype=P.OWN_UNIT)
    e = await refused(
        make_ctx, lambda ctx: changes.file(ctx, world.staff_a, a.app_id, K.SENDING_UNIT, "院")
    )
    assert e.code == "change.unit_name"
    cid = await file(make_ctx, world, a.app_id, K.SENDING_UNIT, "广州市第二人民医院")
    assert (await reread(make_ctx, ChangeRequest, cid)).old_value == "广州市第一人民医院"
    await approve(make_ctx, world.city_gz, cid)
    async with make_ctx() as ctx:
        units = await ctx.session.scalars(
            select(WorkRecord.unit_name).where(
                WorkRecord.account_id == a.actor.account_id, WorkRecord.is_current
            )
        )
        assert units.all() == ["广州市第二人民医院"]


async def test_specialty_change(make_ctx: CtxFactory, world: World, clock: FrozenClock) -> None:
    a = await confirmed(make_ctx, clock, world)
    e = await refused(
        make_ctx, lambda ctx: changes.file(ctx, world.staff_a, a.app_id, K.SPECIALTY, "9999")
    )
    assert e.code == "not_found"
    cid = await file(make_ctx, world, a.app_id, K.SPECIALTY, str(world.pediatrics.id))
    await approve(make_ctx, world.city_gz, cid)
    row = await reread(make_ctx, Application, a.app_id)
    assert row.specialty_id == row.intended_specialty_id == world.pediatrics.id


async def test_base_change_for_a_trainee_in_training_this_year(
    make_ctx: CtxFactory, world: World, clock: FrozenClock
) -> None:
    a = await confirmed(make_ctx, clock, world, start=date(2026, 7, 1))
    e = await refused(
        make_ctx,
        lambda ctx: changes.file(ctx, world.staff_a, a.app_id, K.BASE, str(world.site_b.id)),
    )
    assert e.code == "not_found"  # a local base is not a main base
    cid = await file(make_ctx, world, a.app_id, K.BASE, str(world.base_b.id))
    await approve(make_ctx, world.city_gz, cid)
    row = await reread(make_ctx, Application, a.app_id)
    assert (row.base_id, row.site_id, row.status) == (world.base_b.id, world.site_b.id, S.CONFIRMED)
    assert a.training_id is not None
    assert (await reread(make_ctx, Training, a.training_id)).base_id == world.base_b.id


@pytest.mark.parametrize("start", [date(2025, 9, 1), None], ids=["last_year", "no_years"])
async def test_base_change_refused_for_a_trainee_not_started_this_year(
    make_ctx: CtxFactory, world: World, clock: FrozenClock, start: date | None
) -> None:
    a = await confirmed(make_ctx, clock, world, start=start)
    e = await refused(
        make_ctx,
        lambda ctx: changes.file(ctx, world.staff_a, a.app_id, K.BASE, str(world.base_b.id)),
    )
    assert e.code == "change.base_not_this_year"


async def test_base_change_refused_once_the_year_has_turned(
    make_ctx: CtxFactory, world: World, clock: FrozenClock
) -> None:
    a = await confirmed(make_ctx, clock, world, start=date(2026, 7, 1))
    clock.set(clock.now().replace(year=2027, month=1, day=2))
    e = await refused(
        make_ctx,
        lambda ctx: changes.file(ctx, world.staff_a, a.app_id, K.BASE, str(world.base_b.id)),
    )
    assert e.code == "change.base_not_this_year"


async def test_collaborating_unit_change(
    make_ctx: CtxFactory, world: World, clock: FrozenClock
) -> None:
    a = await confirmed(make_ctx, clock, world)
    e = await refused(
        make_ctx,
        lambda ctx: changes.file(
            ctx, world.staff_a, a.app_id, K.COLLABORATING_UNIT, str(world.site_b.id)
        ),
    )
    assert e.code == "not_found"  # not a site of base_a
    cid = await file(make_ctx, world, a.app_id, K.COLLABORATING_UNIT, str(world.site_a.id))
    await approve(make_ctx, world.city_gz, cid)
    assert (await reread(make_ctx, Application, a.app_id)).site_id == world.site_a.id


# --- 培训状态变更 -------------------------------------------------------------------------------


async def training_row(make_ctx: CtxFactory, a: Admitted) -> Training:
    assert a.training_id is not None
    return await reread(make_ctx, Training, a.training_id)


async def test_status_change_needs_a_training(
    make_ctx: CtxFactory, world: World, clock: FrozenClock
) -> None:
    a = await confirmed(make_ctx, clock, world, check_in=False)
    for kind in (K.PAUSE, K.WITHDRAW, K.EXTEND):
        e = await refused(
            make_ctx,
            lambda ctx, k=kind: changes.file(ctx, world.staff_a, a.app_id, k, "2030-01-01"),
        )
        assert e.code == "change.not_in_training"


async def test_pause_is_applied_on_approval(
    make_ctx: CtxFactory, world: World, clock: FrozenClock
) -> None:
    a = await confirmed(make_ctx, clock, world)
    cid = await file(make_ctx, world, a.app_id, K.PAUSE, "")
    assert (await reread(make_ctx, ChangeRequest, cid)).old_value == "in_training"
    assert (await training_row(make_ctx, a)).status == TrainingStatus.IN_TRAINING
    await approve(make_ctx, world.city_gz, cid)
    row = await training_row(make_ctx, a)
    assert (row.status, row.updated_at) == (TrainingStatus.PAUSED, clock.now())


async def test_withdrawal_is_final(make_ctx: CtxFactory, world: World, clock: FrozenClock) -> None:
    a = await confirmed(make_ctx, clock, world)
    cid = await file(make_ctx, world, a.app_id, K.WITHDRAW, "")
    await approve(make_ctx, world.city_gz, cid)
    assert (await training_row(make_ctx, a)).status == TrainingStatus.WITHDRAWN
    for kind in (K.PAUSE, K.WITHDRAW):
        e = await refused(
            make_ctx, lambda ctx, k=kind: changes.file(ctx, world.staff_a, a.app_id, k, "")
        )
        assert e.code == "change.withdrawn"
    assert a.training_id is not None
    e = await refused(
        make_ctx,
        lambda ctx: training.set_years(ctx, world.staff_a, a.training_id, 3, date(2026, 7, 1)),
    )
    assert e.code == "years.withdrawn"


@pytest.mark.parametrize("typed", ["2029-12-31", "2029/12/31", "2029-12-31 ", "2029.12.31"])
async def test_extension_moves_the_end_date(
    make_ctx: CtxFactory, world: World, clock: FrozenClock, typed: str
) -> None:
    a = await confirmed(make_ctx, clock, world)
    assert (await training_row(make_ctx, a)).end_date == date(2029, 6, 30)
    cid = await file(make_ctx, world, a.app_id, K.EXTEND, typed)
    assert (await reread(make_ctx, ChangeRequest, cid)).old_value == "2029-06-30"
    await approve(make_ctx, world.city_gz, cid)
    row = await training_row(make_ctx, a)
    assert (row.status, row.end_date) == (TrainingStatus.EXTENDED, date(2029, 12, 31))


async def test_extension_typed_without_leading_zeros(
    make_ctx: CtxFactory, world: World, clock: FrozenClock
) -> None:
    a = await confirmed(make_ctx, clock, world)
    cid = await file(make_ctx, world, a.app_id, K.EXTEND, "2029-9-1")
    await approve(make_ctx, world.city_gz, cid)
    assert (await training_row(make_ctx, a)).end_date == date(2029, 9, 1)


@pytest.mark.parametrize(
    ("start", "typed", "code"),
    [
        (date(2026, 7, 1), "2029-06-30", "change.extend_end"),  # not later
        (date(2026, 7, 1), "2029-02-30", "field.date_format"),
        (None, "2030-06-30", "change.extend_end"),  # no end date yet
    ],
)
async def test_extension_refusals(
    make_ctx: CtxFactory,
    world: World,
    clock: FrozenClock,
    start: date | None,
    typed: str,
    code: str,
) -> None:
    a = await confirmed(make_ctx, clock, world, start=start)
    e = await refused(
        make_ctx, lambda ctx: changes.file(ctx, world.staff_a, a.app_id, K.EXTEND, typed)
    )
    assert e.code == code
