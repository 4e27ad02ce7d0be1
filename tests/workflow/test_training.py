"""培训年限管理 (`workflow.training`): years and dates, and the reduction chain
trainee → base → city → province with its PDF documents."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select, update

from storage.models import Document, Reduction, Training
from tests.conftest import CtxFactory
from tests.factories import World, accepted, make_trainee
from tests.workflow.helpers import (
    actions,
    audit_rows,
    encrypted_pdf_bytes,
    kinds,
    outbox,
    pdf_bytes,
    refused,
    reread,
    run,
)
from workflow import admission, training
from workflow.actor import Actor
from workflow.clock import FrozenClock
from workflow.enums import DocumentKind as D
from workflow.enums import ReductionStatus as R
from workflow.enums import TrainingStatus
from workflow.errors import DomainError

START = date(2026, 7, 1)  # the cohort is 2026


@dataclass
class Trainee:
    actor: Actor
    training_id: int


async def checked_in(make_ctx: CtxFactory, clock: FrozenClock, world: World) -> Trainee:
    async with make_ctx() as ctx:
        actor = await make_trainee(ctx)
        app = await accepted(ctx, clock, world, actor)
        await admission.confirm_result(ctx, world.city_gz, app.id)
        await admission.check_in(ctx, world.staff_a, app.id, True)
        t = await ctx.session.scalar(select(Training).where(Training.application_id == app.id))
        assert t is not None and t.id is not None
    return Trainee(actor, t.id)


# --- years and dates --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "years", "end"),
    [
        (date(2023, 7, 1), 3, date(2026, 6, 30)),  # the guide's example
        (date(2021, 9, 1), 3, date(2024, 8, 31)),
        (date(2026, 7, 1), 1, date(2027, 6, 30)),
        (date(2024, 2, 29), 1, date(2025, 2, 28)),
        (date(2024, 2, 29), 4, date(2028, 2, 28)),
    ],
)
def test_derived_end(start: date, years: int, end: date) -> None:
    assert training.derived_end(start, years) == end


def test_end_may_be_earlier_by_at_most_92_days_never_later() -> None:
    start = date(2023, 7, 1)
    assert training.check_dates(3, start, None) == date(2026, 6, 30)
    assert training.check_dates(3, start, date(2026, 3, 30)) == date(2026, 3, 30)  # 92 days
    for end in (date(2026, 3, 29), date(2026, 7, 1)):  # 93 days earlier; 1 day later
        with pytest.raises(DomainError) as e:
            training.check_dates(3, start, end)
        assert e.value.code == "years.end_range"
        assert e.value.params == {"earliest": date(2026, 3, 30), "latest": date(2026, 6, 30)}
    for years in (0, 4):
        with pytest.raises(DomainError) as e:
            training.check_dates(years, start, None)
        assert e.value.code == "years.duration"


async def test_trainee_sets_their_years(
    make_ctx: CtxFactory, world: World, clock: FrozenClock
) -> None:
    t = await checked_in(make_ctx, clock, world)
    await run(make_ctx, lambda ctx: training.set_years(ctx, t.actor, t.training_id, 3, START))
    row = await reread(make_ctx, Training, t.training_id)
    assert (row.duration_years, row.start_date, row.end_date, row.updated_by) == (
        3,
        START,
        date(2029, 6, 30),
        t.actor.account_id,
    )
    audit = (await audit_rows(make_ctx, "training", t.training_id))[-1]
    assert (audit.action, audit.from_state, audit.to_state) == (
        "set_years",
        "None:None:None",
        "3:2026-07-01:2029-06-30",
    )
    assert "years_set" not in await kinds(make_ctx, t.actor.account_id)


async def test_base_sets_the_years_and_the_trainee_is_told(
    make_ctx: CtxFactory, world: World, clock: FrozenClock
) -> None:
    t = await checked_in(make_ctx, clock, world)
    end = date(2029, 4, 1)
    await run(
        make_ctx, lambda ctx: training.set_years(ctx, world.staff_a, t.training_id, 3, START, end)
    )
    row = await reread(make_ctx, Training, t.training_id)
    assert (row.end_date, row.updated_by) == (end, world.staff_a.account_id)
    assert (await kinds(make_ctx, t.actor.account_id))[-1] == "years_set"


async def test_end_later_than_derived_is_refused(
    make_ctx: CtxFactory, world: World, clock: FrozenClock
) -> None:
    t = await checked_in(make_ctx, clock, world)
    e = await refused(
        make_ctx,
        lambda ctx: training.set_years(ctx, t.actor, t.training_id, 3, START, date(2029, 7, 1)),
    )
    assert e.code == "years.end_range"
    assert (await reread(make_ctx, Training, t.training_id)).duration_years is None


@pytest.mark.parametrize(("year", "ok"), [(2024, False), (2025, True), (2027, True), (2028, False)])
async def test_start_year_near_the_cohort(
    make_ctx: CtxFactory, world: World, clock: FrozenClock, year: int, ok: bool
) -> None:
    t = await checked_in(make_ctx, clock, world)
    start = date(year, 9, 1)
    if ok:
        await run(make_ctx, lambda ctx: training.set_years(ctx, t.actor, t.training_id, 3, start))
        assert (await reread(make_ctx, Training, t.training_id)).start_date == start
        return
    e = await refused(
        make_ctx, lambda ctx: training.set_years(ctx, t.actor, t.training_id, 3, start)
    )
    assert (e.code, e.params) == ("years.start_range", {"year": 2026})


async def test_years_scope(make_ctx: CtxFactory, world: World, clock: FrozenClock) -> None:
    t = await checked_in(make_ctx, clock, world)
    async with make_ctx() as ctx:
        stranger = await make_trainee(ctx)
    for who, code in [
        (stranger, "not_found"),
        (world.staff_b, "forbidden.other_base"),
        (world.city_gz, "forbidden.role"),
        (world.province, "forbidden.role"),
    ]:
        e = await refused(
            make_ctx, lambda ctx, w=who: training.set_years(ctx, w, t.training_id, 3, START)
        )
        assert e.code == code


async def test_years_of_a_withdrawn_trainee_are_fixed(
    make_ctx: CtxFactory, world: World, clock: FrozenClock
) -> None:
    t = await checked_in(make_ctx, clock, world)
    async with make_ctx() as ctx:
        await ctx.session.execute(
            update(Training)
            .where(Training.id == t.training_id)
            .values(status=TrainingStatus.WITHDRAWN)
        )
    e = await refused(
        make_ctx, lambda ctx: training.set_years(ctx, world.staff_a, t.training_id, 3, START)
    )
    assert e.code == "years.withdrawn"


# --- reductions: start and documents ----------------------------------------------------------


async def with_years(
    make_ctx: CtxFactory, world: World, clock: FrozenClock, years: int | None
) -> Trainee:
    t = await checked_in(make_ctx, clock, world)
    if years is not None:
        await run(
            make_ctx, lambda ctx: training.set_years(ctx, t.actor, t.training_id, years, START)
        )
    return t


@pytest.mark.parametrize("years", [None, 3])
async def test_reduction_only_for_one_or_two_years(
    make_ctx: CtxFactory, world: World, clock: FrozenClock, years: int | None
) -> None:
    t = await with_years(make_ctx, world, clock, years)
    e = await refused(make_ctx, lambda ctx: training.start_reduction(ctx, t.actor, t.training_id))
    assert (e.code, e.params) == ("reduction.only_short", {"years": years})


@pytest.mark.parametrize("years", [1, 2])
async def test_start_a_reduction(
    make_ctx: CtxFactory, world: World, clock: FrozenClock, years: int
) -> None:
    t = await with_years(make_ctx, world, clock, years)
    row = await run(make_ctx, lambda ctx: training.start_reduction(ctx, t.actor, t.training_id))
    again = await run(make_ctx, lambda ctx: training.start_reduction(ctx, t.actor, t.training_id))
    assert again.id == row.id
    stored = await reread(make_ctx, Reduction, row.id)
    assert (stored.status, stored.years, stored.base_id, stored.city_id) == (
        R.DRAFT,
        years,
        world.base_a.id,
        world.gz.id,
    )
    assert await actions(make_ctx, "reduction", row.id) == ["start"]


async def test_only_the_trainee_starts_a_reduction(
    make_ctx: CtxFactory, world: World, clock: FrozenClock
) -> None:
    t = await with_years(make_ctx, world, clock, 2)
    e = await refused(
        make_ctx, lambda ctx: training.start_reduction(ctx, world.staff_a, t.training_id)
    )
    assert e.code == "forbidden.role"


async def new_reduction(
    make_ctx: CtxFactory, world: World, clock: FrozenClock
) -> tuple[Trainee, int]:
    t = await with_years(make_ctx, world, clock, 2)
    row = await run(make_ctx, lambda ctx: training.start_reduction(ctx, t.actor, t.training_id))
    assert row.id is not None
    return t, row.id


async def attach(
    make_ctx: CtxFactory, who: Actor, reduction_id: int, kind: D, data: bytes | None = None
) -> Document:
    return await run(
        make_ctx,
        lambda ctx: training.attach(
            ctx, who, reduction_id, kind, f"{kind.value}.pdf", data or pdf_bytes(kind.value)
        ),
    )


async def docs(make_ctx: CtxFactory, reduction_id: int) -> list[str]:
    async with make_ctx() as ctx:
        return [d.kind for d in await training.documents(ctx, reduction_id)]


async def test_a_real_pdf_is_stored_on_disk(
    make_ctx: CtxFactory, world: World, clock: FrozenClock, data_dir: Path
) -> None:
    t, red = await new_reduction(make_ctx, world, clock)
    data = pdf_bytes(pages=2)
    doc = await attach(make_ctx, t.actor, red, D.REDUCTION_FORM, data)
    stored = await reread(make_ctx, Document, doc.id)
    digest = hashlib.sha256(data).hexdigest()
    assert (stored.kind, stored.sha256, stored.size, stored.uploaded_by) == (
        D.REDUCTION_FORM,
        digest,
        len(data),
        t.actor.account_id,
    )
    assert (data_dir / "files" / stored.path).read_bytes() == data
    audit = (await audit_rows(make_ctx, "reduction", red))[-1]
    assert (audit.action, audit.detail) == ("attach", {"kind": "reduction_form", "sha256": digest})


@pytest.mark.parametrize(
    ("name", "code"),
    [("encrypted", "pdf.encrypted"), ("text", "pdf.not_pdf"), ("truncated", "pdf.not_pdf")],
)
async def test_only_real_unencrypted_pdfs(
    make_ctx: CtxFactory, world: World, clock: FrozenClock, data_dir: Path, name: str, code: str
) -> None:
    t, red = await new_reduction(make_ctx, world, clock)
    data = {
        "encrypted": encrypted_pdf_bytes(),
        "text": "这是一个改了扩展名的文本文件\n".encode() * 10,  # saved as evidence.pdf
        "truncated": pdf_bytes()[:120],
    }[name]
    e = await refused(
        make_ctx, lambda ctx: training.attach(ctx, t.actor, red, D.EVIDENCE, "evidence.pdf", data)
    )
    assert e.code == code
    assert await docs(make_ctx, red) == []
    assert not (data_dir / "files").exists()


async def test_pdf_over_the_size_limit_is_refused(
    make_ctx: CtxFactory, world: World, clock: FrozenClock
) -> None:
    t, red = await new_reduction(make_ctx, world, clock)
    data = pdf_bytes()
    with pytest.raises(DomainError) as e:
        async with make_ctx() as ctx:
            ctx.max_upload_bytes = len(data) - 1
            await training.attach(ctx, t.actor, red, D.EVIDENCE, "evidence.pdf", data)
    assert e.value.code == "pdf.too_large"
    async with make_ctx() as ctx:
        ctx.max_upload_bytes = len(data)
        await training.attach(ctx, t.actor, red, D.EVIDENCE, "evidence.pdf", data)
    assert await docs(make_ctx, red) == ["evidence"]


async def test_who_attaches_what_and_when(
    make_ctx: CtxFactory, world: World, clock: FrozenClock
) -> None:
    t, red = await new_reduction(make_ctx, world, clock)
    async with make_ctx() as ctx:
        stranger = await make_trainee(ctx)
    pdf = pdf_bytes()
    cases = [
        (t.actor, D.HOSPITAL_PROOF, "forbidden.role"),  # the hospital's proof is the base's
        (world.staff_a, D.HOSPITAL_PROOF, "reduction.wrong_step"),  # not at the base yet
        (world.staff_b, D.HOSPITAL_PROOF, "forbidden.other_base"),
        (world.staff_a, D.EVIDENCE, "not_found"),
        (stranger, D.EVIDENCE, "not_found"),
    ]
    for who, kind, code in cases:
        e = await refused(
            make_ctx, lambda ctx, w=who, k=kind: training.attach(ctx, w, red, k, "a.pdf", pdf)
        )
        assert e.code == code, (who.role, kind)
    assert await docs(make_ctx, red) == []


async def test_submit_needs_the_form_and_the_evidence(
    make_ctx: CtxFactory, world: World, clock: FrozenClock
) -> None:
    t, red = await new_reduction(make_ctx, world, clock)
    e = await refused(make_ctx, lambda ctx: training.submit_reduction(ctx, t.actor, red))
    assert (e.code, e.params) == ("reduction.missing_document", {"kind": "reduction_form"})
    await attach(make_ctx, t.actor, red, D.REDUCTION_FORM)
    e = await refused(make_ctx, lambda ctx: training.submit_reduction(ctx, t.actor, red))
    assert (e.code, e.params) == ("reduction.missing_document", {"kind": "evidence"})
    await attach(make_ctx, t.actor, red, D.EVIDENCE)
    e = await refused(make_ctx, lambda ctx: training.submit_reduction(ctx, world.staff_a, red))
    assert e.code == "not_found"
    await run(make_ctx, lambda ctx: training.submit_reduction(ctx, t.actor, red))
    assert (await reread(make_ctx, Reduction, red)).status == R.AT_BASE
    e = await refused(make_ctx, lambda ctx: training.submit_reduction(ctx, t.actor, red))
    assert e.code == "reduction.wrong_step"
    e = await refused(
        make_ctx,
        lambda ctx: training.attach(ctx, t.actor, red, D.EVIDENCE, "more.pdf", pdf_bytes("x")),
    )
    assert e.code == "reduction.wrong_step"


# --- reductions: the review chain -------------------------------------------------------------


async def at_base(make_ctx: CtxFactory, world: World, clock: FrozenClock) -> tuple[Trainee, int]:
    t, red = await new_reduction(make_ctx, world, clock)
    await attach(make_ctx, t.actor, red, D.REDUCTION_FORM)
    await attach(make_ctx, t.actor, red, D.EVIDENCE)
    await run(make_ctx, lambda ctx: training.submit_reduction(ctx, t.actor, red))
    return t, red


async def review(make_ctx: CtxFactory, who: Actor, red: int, reason: str | None = None) -> None:
    approve = reason is None
    await run(make_ctx, lambda ctx: training.review_reduction(ctx, who, red, approve, reason))


async def test_chain_base_city_province_then_applied(
    make_ctx: CtxFactory, world: World, clock: FrozenClock
) -> None:
    t, red = await at_base(make_ctx, world, clock)
    e = await refused(
        make_ctx, lambda ctx: training.review_reduction(ctx, world.staff_a, red, True)
    )
    assert (e.code, e.params) == ("reduction.missing_document", {"kind": "hospital_proof"})
    await attach(make_ctx, world.staff_a, red, D.HOSPITAL_PROOF)
    steps = [(world.staff_a, R.AT_CITY), (world.city_gz, R.AT_PROVINCE)]
    for who, after in steps:
        clock.advance(days=1)  # notices of one subject and kind are told apart by their time
        await review(make_ctx, who, red)
        assert (await reread(make_ctx, Reduction, red)).status == after
        assert (await reread(make_ctx, Training, t.training_id)).reduction_applied_at is None
    clock.advance(days=1)
    await review(make_ctx, world.province, red)
    assert (await reread(make_ctx, Reduction, red)).status == R.APPLIED
    row = await reread(make_ctx, Training, t.training_id)
    assert (row.reduction_applied_at, row.duration_years) == (clock.now(), 2)
    assert await actions(make_ctx, "reduction", red) == [
        "start",
        "attach",
        "attach",
        "submit",
        "attach",
        "approve",
        "approve",
        "approve",
    ]
    applied = (await audit_rows(make_ctx, "training", t.training_id))[-1]
    assert (applied.action, applied.actor_id, applied.to_state) == ("reduction_applied", None, "2y")
    progress = await outbox(make_ctx, account_id=t.actor.account_id, kind="reduction_progress")
    assert [n.payload["status"] for n in progress] == ["at_city", "at_province", "applied"]
    # Done: nothing more to review, no second reduction, the years stay.
    for who in (world.staff_a, world.city_gz, world.province):
        e = await refused(make_ctx, lambda ctx, w=who: training.review_reduction(ctx, w, red, True))
        assert e.code == "reduction.wrong_step"
    e = await refused(make_ctx, lambda ctx: training.start_reduction(ctx, t.actor, t.training_id))
    assert e.code == "reduction.already_applied"
    e = await refused(
        make_ctx, lambda ctx: training.set_years(ctx, t.actor, t.training_id, 3, START)
    )
    assert e.code == "years.reduction_applied"


async def test_years_fixed_while_a_reduction_is_in_review(
    make_ctx: CtxFactory, world: World, clock: FrozenClock
) -> None:
    t, _red = await at_base(make_ctx, world, clock)
    e = await refused(
        make_ctx, lambda ctx: training.set_years(ctx, world.staff_a, t.training_id, 3, START)
    )
    assert e.code == "years.reduction_in_review"


async def test_wrong_level_or_scope_is_refused_at_every_step(
    make_ctx: CtxFactory, world: World, clock: FrozenClock
) -> None:
    t, red = await at_base(make_ctx, world, clock)
    await attach(make_ctx, world.staff_a, red, D.HOSPITAL_PROOF)
    levels = [
        (
            R.AT_BASE,
            world.staff_a,
            [
                (world.staff_b, "forbidden.other_base"),
                (world.city_gz, "forbidden.role"),
                (world.province, "forbidden.role"),
                (t.actor, "forbidden.role"),
            ],
        ),
        (
            R.AT_CITY,
            world.city_gz,
            [
                (world.city_sz, "forbidden.other_city"),
                (world.staff_a, "forbidden.role"),
                (world.province, "forbidden.role"),
                (t.actor, "forbidden.role"),
            ],
        ),
        (
            R.AT_PROVINCE,
            world.province,
            [
                (world.city_gz, "forbidden.role"),
                (world.staff_a, "forbidden.role"),
                (t.actor, "forbidden.role"),
            ],
        ),
    ]
    for status, reviewer, outsiders in levels:
        assert (await reread(make_ctx, Reduction, red)).status == status
        for who, code in outsiders:
            for approve in (True, False):
                e = await refused(
                    make_ctx,
                    lambda ctx, w=who, a=approve: training.review_reduction(ctx, w, red, a, "理由"),
                )
                assert e.code == code, (status, who.role, approve)
        assert (await reread(make_ctx, Reduction, red)).status == status
        await review(make_ctx, reviewer, red)


@pytest.mark.parametrize("level", ["base", "city", "province"])
async def test_send_back_with_a_reason_at_each_level(
    make_ctx: CtxFactory, world: World, clock: FrozenClock, level: str
) -> None:
    t, red = await at_base(make_ctx, world, clock)
    await attach(make_ctx, world.staff_a, red, D.HOSPITAL_PROOF)
    chain = [("base", world.staff_a), ("city", world.city_gz), ("province", world.province)]
    for name, who in chain:
        if name == level:
            reviewer = who
            break
        await review(make_ctx, who, red)
    before = (await reread(make_ctx, Reduction, red)).status
    for reason in (None, "  "):
        e = await refused(
            make_ctx,
            lambda ctx, r=reason: training.review_reduction(ctx, reviewer, red, False, r),
        )
        assert e.code == "reason.required"
    assert (await reread(make_ctx, Reduction, red)).status == before
    await review(make_ctx, reviewer, red, reason="证明材料 不清晰")
    row = await reread(make_ctx, Reduction, red)
    assert (row.status, row.sent_back_by, row.sent_back_reason) == (
        R.SENT_BACK,
        level,
        "证明材料 不清晰",
    )
    audit = (await audit_rows(make_ctx, "reduction", red))[-1]
    assert (audit.action, audit.from_state, audit.reason) == (
        "send_back",
        before,
        "证明材料 不清晰",
    )
    (notice,) = await outbox(make_ctx, account_id=t.actor.account_id, kind="reduction_sent_back")
    assert notice.payload == {"level": level}
    assert (await reread(make_ctx, Training, t.training_id)).reduction_applied_at is None
    # The trainee fixes it and submits again; the chain starts at the base.
    await attach(make_ctx, t.actor, red, D.EVIDENCE, pdf_bytes("clearer evidence"))
    await run(make_ctx, lambda ctx: training.submit_reduction(ctx, t.actor, red))
    row = await reread(make_ctx, Reduction, red)
    assert (row.status, row.sent_back_by, row.sent_back_reason) == (R.AT_BASE, None, None)
