"""The four profile modules (`workflow.profile`, `workflow.completeness`): fields, education flags,
work unit vs personnel type, and completeness."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import select

from storage.models import EducationRecord, TraineeProfile, WorkRecord
from tests.conftest import CtxFactory
from tests.factories import World, make_trainee, sent
from tests.workflow.helpers import actions, refused, reread, run
from workflow import profile
from workflow.actor import Actor
from workflow.completeness import (
    MODULES,
    check_personnel_type,
    education_problems,
    work_problems,
)
from workflow.enums import EducationLevel as L
from workflow.enums import PersonnelType as P
from workflow.errors import DomainError
from workflow.profile import EducationInput, WorkInput

BACHELOR = EducationInput("中山大学", "临床医学", L.BACHELOR, "2016-09-01", "2021-06-30")
COLLEGE = EducationInput(
    "广州卫生职业技术学院", "临床医学", L.JUNIOR_COLLEGE, "2013-09-01", "2016-06-30"
)
MASTER = EducationInput("南方医科大学", "内科学", L.MASTER, "2021-09-01", "2024-06-30")
PAST_JOB = WorkInput("佛山市第一人民医院", "医师", "2021-08-01", "2023-06-30", False)
CURRENT_JOB = WorkInput("广州市第一人民医院", "住院医师", "2023-08-01", None, True)


async def blank(make_ctx: CtxFactory, **kw: object) -> Actor:
    return await run(make_ctx, lambda ctx: make_trainee(ctx, complete=False, **kw))  # type: ignore[arg-type]


async def problems(make_ctx: CtxFactory, actor: Actor) -> dict[str, list[str]]:
    async with make_ctx() as ctx:
        view = await profile.view(ctx, actor)
    return {m: [p.code for p in view.completeness.missing(m)] for m in MODULES}


async def add_edu(make_ctx: CtxFactory, actor: Actor, data: EducationInput) -> int:
    rec = await run(make_ctx, lambda ctx: profile.add_education(ctx, actor, data))
    assert rec.id is not None
    return rec.id


async def flag(make_ctx: CtxFactory, actor: Actor, rec: int, name: str, on: bool = True) -> None:
    await run(make_ctx, lambda ctx: profile.set_education_flag(ctx, actor, rec, name, on))


async def flags(make_ctx: CtxFactory, actor: Actor) -> dict[int, tuple[bool, bool, bool]]:
    async with make_ctx() as ctx:
        rows = await ctx.session.scalars(
            select(EducationRecord).where(EducationRecord.account_id == actor.account_id)
        )
        return {r.id: (r.is_first, r.is_highest, r.is_bachelor) for r in rows}  # type: ignore[misc]


# --- completeness per module ------------------------------------------------------------------


async def test_new_trainee_profile_lists_what_each_module_misses(make_ctx: CtxFactory) -> None:
    actor = await blank(make_ctx)
    assert await problems(make_ctx, actor) == {
        # gender and birth date came from the resident ID
        "basic": ["basic.missing_ethnicity", "basic.missing_political_status"],
        # the phone was verified at registration
        "contact": [
            "contact.missing_email",
            "contact.missing_address",
            "contact.missing_emergency_name",
            "contact.missing_emergency_phone",
        ],
        "education": ["edu.none"],
        "work": ["work.unanswered"],
    }


async def test_each_module_completes_on_its_own(make_ctx: CtxFactory) -> None:
    actor = await blank(make_ctx)

    async def done() -> list[str]:
        async with make_ctx() as ctx:
            c = (await profile.view(ctx, actor)).completeness
        return [m for m in MODULES if c.module_complete(m)]

    assert await done() == []
    await run(make_ctx, lambda ctx: profile.set_has_work_unit(ctx, actor, False))
    assert await done() == ["work"]
    rec = await add_edu(make_ctx, actor, BACHELOR)
    await flag(make_ctx, actor, rec, "is_first")
    await flag(make_ctx, actor, rec, "is_highest")
    assert await done() == ["education", "work"]
    for field, value in [("ethnicity", "壮族"), ("political_status", "共青团员")]:
        await run(make_ctx, lambda ctx, f=field, v=value: profile.set_basic(ctx, actor, f, v))
    assert await done() == ["basic", "education", "work"]
    for field, value in [
        ("email", "a@example.com"),
        ("address", "广州市越秀区"),
        ("emergency_name", "李四"),
        ("emergency_phone", "020-38314977"),
    ]:
        await run(make_ctx, lambda ctx, f=field, v=value: profile.set_contact(ctx, actor, f, v))
    async with make_ctx() as ctx:
        c = (await profile.view(ctx, actor)).completeness
    assert c.complete and c.done_count == 4


async def test_basic_fields_are_checked_and_audited(make_ctx: CtxFactory) -> None:
    actor = await blank(make_ctx)
    p = await reread(make_ctx, TraineeProfile, actor.account_id)
    assert p.birth_date is not None
    for field, value, code in [
        ("ethnicity", "火星族", "field.choice"),
        ("political_status", "无", "field.choice"),
        ("gender", "other", "field.choice"),
        ("birth_date", "1990-01-01", "basic.birth_date_mismatch"),
        ("birth_date", "1990-13-01", "field.date_format"),
        ("height", "180", "field.unknown"),
    ]:
        e = await refused(
            make_ctx, lambda ctx, f=field, v=value: profile.set_basic(ctx, actor, f, v)
        )
        assert e.code == code, field
    await run(make_ctx, lambda ctx: profile.set_basic(ctx, actor, "birth_date", p.birth_date))
    await run(make_ctx, lambda ctx: profile.set_basic(ctx, actor, "ethnicity", "回族"))
    assert (await reread(make_ctx, TraineeProfile, actor.account_id)).ethnicity == "回族"
    audit = await actions(make_ctx, "profile", actor.account_id)
    assert audit == ["basic_updated", "basic_updated"]


async def test_contact_fields_and_emergency_phone_as_e164(make_ctx: CtxFactory) -> None:
    actor = await blank(make_ctx)
    e = await refused(make_ctx, lambda ctx: profile.set_contact(ctx, actor, "email", "not-mail"))
    assert e.code == "contact.email_invalid"
    e = await refused(make_ctx, lambda ctx: profile.set_contact(ctx, actor, "address", "  "))
    assert e.code == "field.required"
    e = await refused(
        make_ctx, lambda ctx: profile.set_contact(ctx, actor, "emergency_phone", "12345")
    )
    assert e.code == "phone.invalid"
    for text, e164 in [
        ("020-38314977", "+862038314977"),  # landline
        ("13900000000", "+8613900000000"),  # mobile
        ("+1 650 253 0000", "+16502530000"),  # abroad
    ]:
        await run(
            make_ctx, lambda ctx, t=text: profile.set_contact(ctx, actor, "emergency_phone", t)
        )
        async with make_ctx() as ctx:
            p = await ctx.session.get(TraineeProfile, actor.account_id)
            assert p is not None and p.emergency_phone_enc is not None
            assert ctx.cipher.decrypt("emergency_phone", p.emergency_phone_enc) == e164


async def test_profile_is_the_trainees_own(make_ctx: CtxFactory, world: World) -> None:
    actor = await blank(make_ctx)
    other = await blank(make_ctx)
    rec = await add_edu(make_ctx, actor, BACHELOR)
    e = await refused(
        make_ctx, lambda ctx: profile.set_education_flag(ctx, other, rec, "is_first", True)
    )
    assert e.code == "not_found"
    e = await refused(make_ctx, lambda ctx: profile.view(ctx, world.staff_a))
    assert e.code == "forbidden.role"


# --- education flags --------------------------------------------------------------------------


async def test_first_degree_must_be_college_or_bachelor(make_ctx: CtxFactory) -> None:
    actor = await blank(make_ctx)
    master = await add_edu(make_ctx, actor, MASTER)
    e = await refused(
        make_ctx, lambda ctx: profile.set_education_flag(ctx, actor, master, "is_first", True)
    )
    assert e.code == "edu.first_level"
    assert await flags(make_ctx, actor) == {master: (False, False, False)}


async def test_bachelor_flag_only_on_a_bachelor_record(make_ctx: CtxFactory) -> None:
    actor = await blank(make_ctx)
    college = await add_edu(make_ctx, actor, COLLEGE)
    e = await refused(
        make_ctx, lambda ctx: profile.set_education_flag(ctx, actor, college, "is_bachelor", True)
    )
    assert e.code == "edu.bachelor_level"


async def test_college_first_needs_a_bachelor_record_flagged(make_ctx: CtxFactory) -> None:
    actor = await blank(make_ctx)
    college = await add_edu(make_ctx, actor, COLLEGE)
    await flag(make_ctx, actor, college, "is_first")
    bachelor = await add_edu(make_ctx, actor, BACHELOR)
    await flag(make_ctx, actor, bachelor, "is_highest")
    assert (await problems(make_ctx, actor))["education"] == ["edu.need_bachelor"]
    await flag(make_ctx, actor, bachelor, "is_bachelor")
    assert (await problems(make_ctx, actor))["education"] == []
    assert await flags(make_ctx, actor) == {
        college: (True, False, False),
        bachelor: (False, True, True),
    }


async def test_highest_degree_is_required(make_ctx: CtxFactory) -> None:
    actor = await blank(make_ctx)
    rec = await add_edu(make_ctx, actor, BACHELOR)
    await flag(make_ctx, actor, rec, "is_first")
    assert (await problems(make_ctx, actor))["education"] == ["edu.no_highest"]
    await flag(make_ctx, actor, rec, "is_first", False)
    assert (await problems(make_ctx, actor))["education"] == ["edu.no_first", "edu.no_highest"]


async def test_one_record_may_carry_first_highest_and_bachelor(make_ctx: CtxFactory) -> None:
    actor = await blank(make_ctx)
    rec = await add_edu(make_ctx, actor, BACHELOR)
    for name in ("is_first", "is_highest", "is_bachelor"):
        await flag(make_ctx, actor, rec, name)
    assert await flags(make_ctx, actor) == {rec: (True, True, True)}
    assert (await problems(make_ctx, actor))["education"] == []


async def test_setting_a_flag_moves_it(make_ctx: CtxFactory) -> None:
    actor = await blank(make_ctx)
    bachelor = await add_edu(make_ctx, actor, BACHELOR)
    master = await add_edu(make_ctx, actor, MASTER)
    await flag(make_ctx, actor, bachelor, "is_first")
    await flag(make_ctx, actor, bachelor, "is_highest")
    assert (await problems(make_ctx, actor))["education"] == ["edu.highest_not_highest"]
    await flag(make_ctx, actor, master, "is_highest")
    assert await flags(make_ctx, actor) == {
        bachelor: (True, False, False),
        master: (False, True, False),
    }
    assert (await problems(make_ctx, actor))["education"] == []
    assert await actions(make_ctx, "education", master) == ["added", "flag"]


async def test_editing_a_flagged_record_to_another_level_shows_up_as_a_problem(
    make_ctx: CtxFactory,
) -> None:
    actor = await blank(make_ctx)
    rec = await add_edu(make_ctx, actor, BACHELOR)
    for name in ("is_first", "is_highest", "is_bachelor"):
        await flag(make_ctx, actor, rec, name)
    doctor = EducationInput("中山大学", "临床医学", L.DOCTOR, "2016-09-01", "2021-06-30")
    await run(make_ctx, lambda ctx: profile.edit_education(ctx, actor, rec, doctor))
    assert (await problems(make_ctx, actor))["education"] == [
        "edu.first_level",
        "edu.bachelor_level",
    ]


async def test_education_record_rules_and_removal(make_ctx: CtxFactory) -> None:
    actor = await blank(make_ctx)
    for data, code in [
        (
            EducationInput("中山大学", "临床医学", L.BACHELOR, "2021-06-30", "2016-09-01"),
            "field.end_before_start",
        ),
        (
            EducationInput("中山大学", "临床医学", L.BACHELOR, "2027-09-01", "2030-06-30"),
            "field.date_range",
        ),
        (EducationInput("中山大学", "临床医学", "phd", "2016-09-01", "2021-06-30"), "field.choice"),
        (EducationInput(" ", "临床医学", L.BACHELOR, "2016-09-01", "2021-06-30"), "field.required"),
        (
            EducationInput("中山大学", "x" * 65, L.BACHELOR, "2016-09-01", "2021-06-30"),
            "field.too_long",
        ),
        (
            EducationInput("中山大学", "临床医学", L.BACHELOR, "2016-9", "2021-06-30"),
            "field.date_format",
        ),
    ]:
        e = await refused(make_ctx, lambda ctx, d=data: profile.add_education(ctx, actor, d))
        assert e.code == code
    rec = await add_edu(make_ctx, actor, BACHELOR)
    await run(make_ctx, lambda ctx: profile.remove_education(ctx, actor, rec))
    assert await flags(make_ctx, actor) == {}
    assert await actions(make_ctx, "education", rec) == ["added", "removed"]


def test_education_problems_pure_rules() -> None:
    @dataclass
    class Rec:
        level: L
        is_first: bool = False
        is_highest: bool = False
        is_bachelor: bool = False

    def codes(*records: Rec) -> list[str]:
        return [p.code for p in education_problems(records)]

    assert codes() == ["edu.none"]
    assert codes(Rec(L.BACHELOR, True, True)) == []
    assert codes(Rec(L.BACHELOR, True), Rec(L.BACHELOR, True, True)) == ["edu.many_first"]
    assert codes(Rec(L.BACHELOR, True, True), Rec(L.MASTER, False, True)) == ["edu.many_highest"]
    assert codes(
        Rec(L.JUNIOR_COLLEGE, True),
        Rec(L.BACHELOR, is_bachelor=True),
        Rec(L.BACHELOR, False, True, True),
    ) == ["edu.many_bachelor"]
    assert codes(Rec(L.JUNIOR_COLLEGE, True, True)) == ["edu.need_bachelor"]


# --- work module and personnel type -----------------------------------------------------------


async def work_rows(make_ctx: CtxFactory, actor: Actor) -> list[tuple[str, bool]]:
    async with make_ctx() as ctx:
        rows = await ctx.session.scalars(
            select(WorkRecord)
            .where(WorkRecord.account_id == actor.account_id)
            .order_by(WorkRecord.id)
        )
        return [(r.unit_name, r.is_current) for r in rows]


async def test_work_module_with_one_current_unit(make_ctx: CtxFactory) -> None:
    actor = await blank(make_ctx)
    await run(make_ctx, lambda ctx: profile.set_has_work_unit(ctx, actor, True))
    assert (await problems(make_ctx, actor))["work"] == ["work.no_records"]
    await run(make_ctx, lambda ctx: profile.add_work(ctx, actor, PAST_JOB))
    assert (await problems(make_ctx, actor))["work"] == ["work.no_current"]
    await run(make_ctx, lambda ctx: profile.add_work(ctx, actor, CURRENT_JOB))
    assert (await problems(make_ctx, actor))["work"] == []
    # A second current unit takes the flag from the first.
    new_job = WorkInput("广东省人民医院", None, "2025-01-01", None, True)
    await run(make_ctx, lambda ctx: profile.add_work(ctx, actor, new_job))
    assert await work_rows(make_ctx, actor) == [
        ("佛山市第一人民医院", False),
        ("广州市第一人民医院", False),
        ("广东省人民医院", True),
    ]


async def test_answering_no_work_unit_keeps_past_work_but_not_current(
    make_ctx: CtxFactory,
) -> None:
    actor = await blank(make_ctx)
    await run(make_ctx, lambda ctx: profile.set_has_work_unit(ctx, actor, True))
    await run(make_ctx, lambda ctx: profile.add_work(ctx, actor, CURRENT_JOB))
    await run(make_ctx, lambda ctx: profile.set_has_work_unit(ctx, actor, False))
    assert await work_rows(make_ctx, actor) == [("广州市第一人民医院", False)]
    assert (await problems(make_ctx, actor))["work"] == []
    e = await refused(make_ctx, lambda ctx: profile.add_work(ctx, actor, CURRENT_JOB))
    assert e.code == "work.current_without_unit"
    await run(make_ctx, lambda ctx: profile.add_work(ctx, actor, PAST_JOB))


async def test_work_record_rules(make_ctx: CtxFactory) -> None:
    actor = await blank(make_ctx)
    await run(make_ctx, lambda ctx: profile.set_has_work_unit(ctx, actor, True))
    for data, code in [
        (WorkInput("医院", None, "2027-01-01", None, False), "field.date_range"),
        (WorkInput("医院", None, "2023-01-01", "2022-01-01", False), "field.end_before_start"),
        (WorkInput("医院", None, "2023-01-01", "2024-01-01", True), "work.current_has_ended"),
        (WorkInput("", None, "2023-01-01", None, False), "field.required"),
    ]:
        e = await refused(make_ctx, lambda ctx, d=data: profile.add_work(ctx, actor, d))
        assert e.code == code
    assert await work_rows(make_ctx, actor) == []


@pytest.mark.parametrize(
    ("ptype", "has_unit", "currents", "code"),
    [
        (P.OWN_UNIT, False, 0, "apply.needs_current_unit"),
        (P.OWN_UNIT, True, 0, "apply.needs_current_unit"),
        (P.ENTRUSTED, True, 2, "apply.needs_current_unit"),
        (P.ENTRUSTED, None, 0, "apply.needs_current_unit"),
        (P.SOCIAL, True, 1, "apply.must_have_no_unit"),
        (P.SOCIAL, True, 0, "apply.must_have_no_unit"),
        (P.MASTERS, False, 1, "apply.must_have_no_unit"),
        (P.OWN_UNIT, True, 1, None),
        (P.ENTRUSTED, True, 1, None),
        (P.SOCIAL, False, 0, None),
        (P.MASTERS, False, 0, None),
        (P.DELEGATED, True, 1, None),
        (P.AID, False, 0, None),
    ],
)
def test_personnel_type_vs_work_unit(
    ptype: P, has_unit: bool | None, currents: int, code: str | None
) -> None:
    @dataclass
    class Job:
        is_current: bool

    records = [Job(True)] * currents + [Job(False)]
    if code is None:
        check_personnel_type(ptype, has_unit, records)
        return
    with pytest.raises(DomainError) as e:
        check_personnel_type(ptype, has_unit, records)
    assert e.value.code == code
    assert e.value.params["personnel_type"] == ptype.value


def test_work_problems_pure_rules() -> None:
    @dataclass
    class Job:
        is_current: bool

    def codes(has: bool | None, *currents: bool) -> list[str]:
        return [p.code for p in work_problems(has, [Job(c) for c in currents])]

    assert codes(None) == ["work.unanswered"]
    assert codes(False) == []
    assert codes(False, False) == []
    assert codes(False, True) == ["work.current_without_unit"]
    assert codes(True) == ["work.no_records"]
    assert codes(True, True, True) == ["work.many_current"]


async def test_own_unit_work_locked_after_admission_but_not_for_social(
    make_ctx: CtxFactory, world: World
) -> None:
    async with make_ctx() as ctx:
        own = await make_trainee(ctx, has_work_unit=True)
        social = await make_trainee(ctx)
        await sent(ctx, world, own, personnel_type=P.OWN_UNIT)
        await sent(ctx, world, social)
    e = await refused(make_ctx, lambda ctx: profile.add_work(ctx, own, PAST_JOB))
    assert e.code == "work.locked_after_admission"
    e = await refused(make_ctx, lambda ctx: profile.set_has_work_unit(ctx, own, False))
    assert e.code == "work.locked_after_admission"
    # The other modules stay editable.
    await run(make_ctx, lambda ctx: profile.set_contact(ctx, own, "address", "深圳市福田区"))
    await run(make_ctx, lambda ctx: profile.add_work(ctx, social, PAST_JOB))
    assert await work_rows(make_ctx, social) == [("佛山市第一人民医院", False)]


def test_dates_typed_in_chat() -> None:
    for text in ("2023-07-01", "2023/7/1", "2023.07.01", "20230701"):
        assert profile.parse_date(text) == date(2023, 7, 1)
    with pytest.raises(DomainError) as e:
        profile.parse_date("2023-02-30", "start_date")
    assert (e.value.code, e.value.params) == ("field.date_format", {"field": "start_date"})


async def test_edit_and_remove_work_records(make_ctx: CtxFactory) -> None:
    actor = await blank(make_ctx)
    await run(make_ctx, lambda ctx: profile.set_has_work_unit(ctx, actor, True))
    current = await run(make_ctx, lambda ctx: profile.add_work(ctx, actor, CURRENT_JOB))
    past = await run(make_ctx, lambda ctx: profile.add_work(ctx, actor, PAST_JOB))
    assert current.id is not None and past.id is not None
    # Editing the past job into the current one moves the flag.
    now_current = WorkInput("佛山市第一人民医院", "主治医师", "2021-08-01", None, True)
    await run(make_ctx, lambda ctx: profile.edit_work(ctx, actor, past.id, now_current))
    assert await work_rows(make_ctx, actor) == [
        ("广州市第一人民医院", False),
        ("佛山市第一人民医院", True),
    ]
    await run(make_ctx, lambda ctx: profile.remove_work(ctx, actor, current.id))
    assert await work_rows(make_ctx, actor) == [("佛山市第一人民医院", True)]
    assert await actions(make_ctx, "work", past.id) == ["added", "edited"]
    assert await actions(make_ctx, "work", current.id) == ["added", "removed"]
    # With 无, no record may be made current again.
    await run(make_ctx, lambda ctx: profile.set_has_work_unit(ctx, actor, False))
    e = await refused(make_ctx, lambda ctx: profile.edit_work(ctx, actor, past.id, now_current))
    assert e.code == "work.current_without_unit"
    other = await blank(make_ctx)
    e = await refused(make_ctx, lambda ctx: profile.remove_work(ctx, other, past.id))
    assert e.code == "not_found"
    assert await work_rows(make_ctx, actor) == [("佛山市第一人民医院", False)]


async def test_gender_must_match_the_resident_id(make_ctx: CtxFactory) -> None:
    from tests.factories import make_trainee
    from workflow import profile as profile_flow

    async with make_ctx() as ctx:
        trainee = await make_trainee(ctx, complete=False)
        current = (await profile_flow.load(ctx, trainee.account_id)).profile.gender
    other = "female" if current == "male" else "male"
    with pytest.raises(DomainError) as e:
        async with make_ctx() as ctx:
            await profile_flow.set_basic(ctx, trainee, "gender", other)
    assert e.value.code == "basic.gender_mismatch"
    async with make_ctx() as ctx:
        await profile_flow.set_basic(ctx, trainee, "gender", current)
        assert (await profile_flow.load(ctx, trainee.account_id)).profile.gender == current


async def test_a_failed_login_is_a_refusal_whose_count_is_kept(make_ctx: CtxFactory) -> None:
    from tests.factories import make_trainee
    from workflow import accounts as accounts_flow

    async with make_ctx() as ctx:
        trainee = await make_trainee(ctx, complete=False)
        account = await ctx.session.get(accounts_flow.Account, trainee.account_id)
        login = account.login_name
    with pytest.raises(DomainError) as e:
        async with make_ctx() as ctx:
            await accounts_flow.authenticate(ctx, login, "wrong-pass1", 77)
    assert e.value.code == "login.wrong" and e.value.persist
