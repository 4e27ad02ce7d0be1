"""What the Mini App refuses: calls without valid, fresh init data change nothing; a trainee can
reach only their own records; staff cannot use the trainee's forms."""

from __future__ import annotations

import time

from sqlalchemy import func, select

from storage.models import Application, EducationRecord, MiniAppDraft, TraineeProfile, WorkRecord
from tests.factories import World, make_trainee
from tests.harness import BotHarness
from tests.miniapp.conftest import MiniApp
from tests.miniapp.test_bases_page import at_the_choice
from tests.miniapp_support import sign_init_data

BASIC = {"values": {"ethnicity": "汉族", "political_status": "群众"}}


async def test_missing_forged_or_expired_init_data_changes_nothing(
    app: BotHarness, world: World, miniapp: MiniApp
) -> None:
    actor, draft_id = await at_the_choice(app, world, 6401)
    async with app.ctx() as ctx:
        p = await ctx.session.get(TraineeProfile, actor.account_id)
        p.ethnicity = p.political_status = None
    calls = [
        ("profile/basic", BASIC),
        ("profile/basic/draft", BASIC),
        ("apply/base", {"specialty_id": world.internal.id, "base_id": world.base_a.id}),
    ]
    forged = sign_init_data("654321:not-this-bots-token", 6401)
    expired = miniapp.init_data(6401, auth_date=time.time() - 2 * 86400)
    for init_data, code in (
        (None, "auth.missing"),
        (forged, "auth.invalid"),
        (expired, "auth.expired"),
    ):
        for path, body in calls:
            status, answer = await miniapp.call(path, body, init_data=init_data)
            assert (status, answer["error"]) == (401, code), (path, answer)
            assert answer["message"]
    async with app.ctx() as ctx:
        p = await ctx.session.get(TraineeProfile, actor.account_id)
        assert (p.ethnicity, p.political_status) == (None, None)
        assert await ctx.session.scalar(select(func.count(MiniAppDraft.id))) == 0
        draft = await ctx.session.get(Application, draft_id)
        assert (draft.intended_specialty_id, draft.base_id) == (None, None)

    # the same calls, signed by Telegram for this user, do
    status, _ = await miniapp.as_user(6401, "profile/basic", BASIC)
    assert status == 200
    async with app.ctx() as ctx:
        assert (await ctx.session.get(TraineeProfile, actor.account_id)).ethnicity == "汉族"


async def test_a_trainee_cannot_reach_another_accounts_records(
    app: BotHarness, world: World, miniapp: MiniApp
) -> None:
    async with app.ctx() as ctx:
        mine = await make_trainee(ctx, tg_user_id=6402, has_work_unit=True)
        theirs = await make_trainee(ctx, tg_user_id=6403, has_work_unit=True)
    status, me = await miniapp.as_user(6402, "profile")
    assert status == 200
    my_edu = me["saved"]["education"]["records"]
    their_edu = (await miniapp.as_user(6403, "profile"))[1]["saved"]["education"]["records"]
    their_work = (await miniapp.as_user(6403, "profile"))[1]["saved"]["work"]["records"]
    before = {who: await snapshot(app, who.account_id) for who in (mine, theirs)}

    # their record's id in my form: edited as if mine
    hijack = {**their_edu[0], "school": "被改掉的学校"}
    status, body = await miniapp.as_user(
        6402, "profile/education", {"values": {"records": [*my_edu, hijack]}}
    )
    assert status == 422 and body["error"] == "not_found"
    assert body["message"] == "找不到该教育信息记录，它可能已被删除或不属于您。"
    status, body = await miniapp.as_user(
        6402,
        "profile/work",
        {"values": {"has_work_unit": True, "records": [{**their_work[0], "unit_name": "x"}]}},
    )
    assert status == 422 and body["error"] == "not_found"

    after = {who: await snapshot(app, who.account_id) for who in (mine, theirs)}
    assert after == before  # neither theirs nor mine (my own record was not removed) changed

    # an account id in the body is not who acts
    status, _ = await miniapp.as_user(
        6402,
        "profile/basic",
        {"values": {"political_status": "中共党员"}, "account_id": theirs.account_id},
    )
    assert status == 200
    async with app.ctx() as ctx:
        assert (await ctx.session.get(TraineeProfile, theirs.account_id)).political_status == "群众"
        assert (
            await ctx.session.get(TraineeProfile, mine.account_id)
        ).political_status == "中共党员"


async def test_staff_cannot_use_the_trainee_forms(
    app: BotHarness, world: World, miniapp: MiniApp
) -> None:
    staff_user = 6404
    async with app.ctx() as ctx:
        from workflow.accounts import bind_chat

        await bind_chat(ctx, world.staff_a.account_id, staff_user)
    status, me = await miniapp.as_user(staff_user, "me")
    assert status == 200 and me["role"] == "base"
    for path, body in (("profile", None), ("profile/basic", BASIC), ("apply/bases", None)):
        status, answer = await miniapp.as_user(staff_user, path, body)
        assert (status, answer["error"]) == (403, "auth.role")
        assert answer["message"] == "此页面不适用于您的账号。"


async def snapshot(app: BotHarness, account_id: int) -> tuple:  # type: ignore[type-arg]
    async with app.ctx() as ctx:
        edu = (
            await ctx.session.scalars(
                select(EducationRecord)
                .where(EducationRecord.account_id == account_id)
                .order_by(EducationRecord.id)
            )
        ).all()
        work = (
            await ctx.session.scalars(
                select(WorkRecord)
                .where(WorkRecord.account_id == account_id)
                .order_by(WorkRecord.id)
            )
        ).all()
        return (
            [(r.id, r.school, r.major, r.is_first, r.is_highest) for r in edu],
            [(r.id, r.unit_name, r.is_current) for r in work],
        )
