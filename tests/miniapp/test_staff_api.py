"""The staff routes of the Mini App over HTTP with signed init data: the queues filtered,
sorted and paged on the server; actions through the chat's workflow functions with the chat's
refusals; and init data of staff acting outside their scope refused with nothing changed."""

from __future__ import annotations

from urllib.parse import quote

from storage.models import Application
from tests.harness import BotHarness
from tests.miniapp.conftest import MiniApp
from tests.miniapp.staff_world import (
    BASE_A,
    BASE_B,
    CITY_GZ,
    admitted,
    applicants,
    snapshot,
    staff_world,
)
from tests.staff.conftest import trainee
from workflow import admission, results
from workflow.actor import Actor
from workflow.enums import Role


async def test_queue_filtered_sorted_and_paged_on_the_server(
    app: BotHarness, miniapp: MiniApp
) -> None:
    sw = await staff_world(app)
    await applicants(app, sw, 5, "内科")
    await applicants(app, sw, 2, "儿科", specialty=sw.world.pediatrics)
    await applicants(app, sw, 1, "深圳", base=sw.world.base_b)

    status, meta = await miniapp.as_user(BASE_A, "staff/meta")
    assert status == 200, meta
    assert [v["id"] for v in meta["views"]] == ["pre", "adm", "chk", "yrs"]
    assert meta["scope"] == "广州市红十字会医院" and meta["max_send"] == 20
    assert meta["texts"]["staff.list.export"] == "📥 导出Excel"

    status, page = await miniapp.as_user(BASE_A, "staff/list/pre?size=3&o=-name")
    assert status == 200, page
    assert page["total"] == 7 and page["pages"] == 3  # base B's applicant is not in the list
    names = [r["name"] for r in page["rows"]]
    assert names == sorted(names, reverse=True)
    assert page["line"] == "共 7 条 · 第 1/3 页"
    assert page["rows"][0]["acts"] == [
        {"id": "pre", "label": "✅ 预录取"},
        {"id": "rej", "label": "❌ 不录取"},
    ]

    peds = sw.world.pediatrics.id
    status, page = await miniapp.as_user(BASE_A, f"staff/list/pre?s={peds}&o=name")
    assert sorted(r["name"] for r in page["rows"]) == ["儿科零一", "儿科零零"]
    assert [r["name"] for r in page["rows"]] == sorted(r["name"] for r in page["rows"])
    status, page = await miniapp.as_user(BASE_A, f"staff/list/pre?q={quote('内科零二')}")
    assert [r["name"] for r in page["rows"]] == ["内科零二"]

    # A city reviewer has the confirmation queue only.
    status, meta = await miniapp.as_user(CITY_GZ, "staff/meta", language_code="en")
    assert [v["id"] for v in meta["views"]] == ["cnf"]
    assert meta["locale"] == "en" and meta["texts"]["miniapp_staff.title"] == "Workbench"
    assert meta["views"][0]["title"] == "✅ Result confirmation"
    status, body = await miniapp.as_user(CITY_GZ, "staff/list/adm")
    assert status == 422 and "此功能不适用于您的账号角色" in body["message"]


async def test_another_bases_applicant_is_refused_and_nothing_changes(
    app: BotHarness, miniapp: MiniApp
) -> None:
    sw = await staff_world(app)
    (theirs,) = await applicants(app, sw, 1, "深圳", base=sw.world.base_b)
    (ours,) = await applicants(app, sw, 1, "广州")
    (their_admitted,) = await applicants(app, sw, 1, "深圳录取", base=sw.world.base_b)
    await admitted(app, sw.b, [their_admitted])
    await trainee(app, name="学员", tg=9301)
    before = await snapshot(app)

    for path, body in (
        ("staff/act", {"act": "pre", "id": theirs}),
        ("staff/act", {"act": "rej", "id": theirs, "reason": "不符合条件"}),
        ("staff/select", {"selected": [], "id": their_admitted}),
        ("staff/send", {"ids": [their_admitted]}),
    ):
        status, answer = await miniapp.as_user(BASE_A, path, body)
        assert status == 422, (path, answer)
        assert answer["error"] == "forbidden.other_base"
        assert answer["message"] == "该学员不属于您所在的培训基地，无权操作。", answer
    # The other base's staff, in English, get the refusal in English.
    status, answer = await miniapp.as_user(
        BASE_B, "staff/act", {"act": "pre", "id": ours}, language_code="en"
    )
    assert (
        status == 422 and answer["message"] == "This trainee does not belong to your training base."
    )
    # The city may not confirm at a base it does not supervise; a trainee is no staff.
    status, answer = await miniapp.as_user(CITY_GZ, "staff/act", {"act": "cnf", "id": theirs})
    assert status == 422
    status, answer = await miniapp.as_user(9301, "staff/list/pre")
    assert status == 422 and answer["error"] == "staff.only"
    # Forged init data: refused before anything is read.
    forged = miniapp.init_data(BASE_A).replace("hash=", "hash=0")
    status, answer = await miniapp.call("staff/send", {"ids": [ours]}, init_data=forged)
    assert status == 401

    assert await snapshot(app) == before

    # Its own applicant: the same call goes through.
    status, answer = await miniapp.as_user(BASE_A, "staff/act", {"act": "pre", "id": ours})
    assert status == 200 and answer["note"] == "✅ 已预录取，学员已收到通知。"


async def test_confirmation_check_in_and_years_through_the_chats_workflow(
    app: BotHarness, miniapp: MiniApp
) -> None:
    sw = await staff_world(app)
    ids = await applicants(app, sw, 3, "确认")
    await admitted(app, sw.a, ids)
    async with app.ctx() as ctx:
        await admission.send_results(ctx, sw.a, ids)
    app.clock.advance(hours=13)
    async with app.ctx() as ctx:
        for app_id in ids:
            row = await ctx.session.get(Application, app_id)
            assert row is not None
            await results.accept(ctx, Actor(row.account_id, Role.TRAINEE), app_id)

    # The city confirms one, then asks for the rest of the filtered list and confirms them.
    status, body = await miniapp.as_user(CITY_GZ, "staff/act", {"act": "cnf", "id": ids[0]})
    assert status == 200 and body["note"] == "✅ 录取结果已确认，已通知学员和基地。"
    status, body = await miniapp.as_user(
        CITY_GZ, "staff/confirm_all", {"filters": {"x": "accepted"}, "count_only": True}
    )
    assert body["n"] == 2 and body["ask"].startswith("将确认以下筛选结果中全部 2 条")
    status, body = await miniapp.as_user(CITY_GZ, "staff/confirm_all", {"filters": {}})
    assert status == 200 and body["note"] == "✅ 已确认 2 条录取结果，已通知学员和基地。"
    status, page = await miniapp.as_user(CITY_GZ, "staff/list/cnf?x=confirmed")
    assert page["total"] == 3 and all(r["acts"] == [] for r in page["rows"])

    # The base checks them in; a second confirmation is refused with the chat's text.
    status, body = await miniapp.as_user(BASE_A, "staff/act", {"act": "in1", "id": ids[0]})
    assert status == 200 and body["note"] == "✅ 已登记为已报到。"
    status, page = await miniapp.as_user(BASE_A, "staff/list/chk?x=reported")
    assert [r["id"] for r in page["rows"]] == [ids[0]] and page["rows"][0]["checkin"] == "已报到"
    status, body = await miniapp.as_user(CITY_GZ, "staff/act", {"act": "cnf", "id": ids[0]})
    assert status == 422 and body["error"] == "state.wrong"

    # Training years: a bad date is refused as in chat, a good one saved.
    status, page = await miniapp.as_user(BASE_A, "staff/list/yrs")
    (training,) = page["rows"]
    bad = {"act": "years", "id": training["id"], "years": 3, "start": "2026-13-01"}
    status, body = await miniapp.as_user(BASE_A, "staff/act", bad)
    assert status == 422 and body["error"] == "field.date_format"
    good = {**bad, "start": "2026-09-01"}
    status, body = await miniapp.as_user(BASE_A, "staff/act", good)
    assert status == 200 and body["note"] == "✅ 培训年限已保存，学员已收到通知。"
    status, page = await miniapp.as_user(BASE_A, "staff/list/yrs?x=3&o=-end")
    assert page["rows"][0]["start"] == "2026-09-01" and page["rows"][0]["end"] == "2029-08-31"
