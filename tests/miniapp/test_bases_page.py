"""The application's base choice on a phone: search and filter the national bases, pick one and
its local base; the chat's wizard stands where the choice left it."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import Application, Base
from tests.factories import World, add, make_plan, make_trainee
from tests.harness import BotHarness
from tests.miniapp.conftest import MiniApp
from tests.miniapp.test_profile_page import SCREENSHOTS
from workflow import application
from workflow.actor import Actor
from workflow.enums import BaseKind


async def at_the_choice(app: BotHarness, world: World, user_id: int) -> tuple[Actor, int]:
    """A trainee whose draft has reached the specialty step, and one more Guangzhou base."""
    async with app.ctx() as ctx:
        other = await add(
            ctx,
            Base(
                code="GZ02",
                name="广州医科大学附属第一医院",
                kind=BaseKind.NATIONAL,
                city_id=world.gz.id,
            ),
        )
        await add(
            ctx,
            Base(
                code="GZ02-1",
                name="广医一院本部",
                kind=BaseKind.LOCAL,
                parent_id=other.id,
                city_id=world.gz.id,
            ),
        )
        await make_plan(ctx, world.batch, other, world.internal, 5)
        actor = await make_trainee(ctx, tg_user_id=user_id)
        draft = await application.start(ctx, actor, world.batch.id)
        await application.choose_personnel_type(ctx, actor, draft.id, "social")
        await application.confirm_info(ctx, actor, draft.id)
        await application.save_supplement(
            ctx, actor, draft.id, {"fresh_graduate": True, "has_qualification": False}
        )
        await application.finish_supplement(ctx, actor, draft.id)
    return actor, draft.id


async def test_a_trainee_finds_a_base_by_name_and_city_and_the_chat_wizard_follows(
    app: BotHarness, world: World, miniapp: MiniApp, phone
) -> None:  # type: ignore[no-untyped-def]
    _actor, draft_id = await at_the_choice(app, world, 6101)
    user = app.user(6101, language_code="zh-hans")
    await user.command("start")

    await phone.goto(miniapp.page("bases.html", 6101))
    await phone.wait_for_selector("#specialty")
    await phone.select_option("#specialty", str(world.internal.id))
    await phone.wait_for_selector("#base-list li")
    names = await phone.locator("#base-list li strong").all_inner_texts()
    # By city, then by the pinyin of the name (guangzhou shi… before guangzhou yike…).
    assert names == ["广州市红十字会医院", "广州医科大学附属第一医院", "深圳市人民医院"]

    await phone.select_option("#city", str(world.gz.id))
    assert await phone.locator("#base-list li").count() == 2
    await phone.fill("#search", "红十字")
    items = phone.locator("#base-list li")
    assert await items.count() == 1
    assert (
        await items.first.inner_text() == "广州市红十字会医院\n广州市 · 招收计划数 2 · 已报名人数 0"
    )
    await phone.fill("#search", "人民")  # 深圳市人民医院 is not in 广州市
    assert await phone.locator("#base-list li").count() == 0
    assert await phone.is_visible("#base-none")
    await phone.fill("#search", "红十字")
    await phone.screenshot(path=str(SCREENSHOTS / "miniapp-bases.png"))

    await items.first.click()
    await phone.wait_for_selector("#site-list li")
    await phone.click(f"#site-list li[data-site='{world.site_a.id}']")
    await phone.wait_for_selector("#done:not([hidden])")
    assert "已保存志愿：广州市红十字会医院 · 广州市红十字会医院" in await phone.inner_text("#done")

    async with app.ctx() as ctx:
        draft = await ctx.session.get(Application, draft_id)
        assert (draft.intended_specialty_id, draft.base_id, draft.site_id, draft.specialty_id) == (
            world.internal.id,
            world.base_a.id,
            world.site_a.id,
            world.internal.id,
        )
        assert draft.step == "reassignment" and draft.status == "draft"

    await user.command("apply")
    wizard = user.last_bot_message().text
    assert "是否接受专业调剂" in wizard and "广州市红十字会医院" in wizard


async def test_a_base_without_a_plan_is_refused_with_the_chats_text(
    app: BotHarness, world: World, miniapp: MiniApp
) -> None:
    _actor, draft_id = await at_the_choice(app, world, 6102)
    status, body = await miniapp.as_user(
        6102, "apply/base", {"specialty_id": world.pediatrics.id, "base_id": world.base_b.id}
    )
    assert status == 422 and body["error"] == "app.no_plan_at_base"
    assert body["message"] == "该基地在本批次没有该专业的招收计划。"
    async with app.ctx() as ctx:
        draft = await ctx.session.get(Application, draft_id)
        assert draft.step == "specialty" and draft.intended_specialty_id is None
        assert draft.base_id is None


async def test_no_draft_or_a_draft_before_the_choice_is_refused(
    app: BotHarness, world: World, miniapp: MiniApp
) -> None:
    async with app.ctx() as ctx:
        actor = await make_trainee(ctx, tg_user_id=6103)
    status, body = await miniapp.as_user(6103, "apply/bases")
    assert status == 422 and "请先在聊天中发送 /apply 选择批次" in body["message"]
    async with app.ctx() as ctx:
        await application.start(ctx, actor, world.batch.id)
    status, body = await miniapp.as_user(
        6103, "apply/base", {"specialty_id": world.internal.id, "base_id": world.base_a.id}
    )
    assert status == 422 and body["error"] == "app.step_missing"
    async with app.ctx() as ctx:
        assert (await ctx.session.scalar(select(Application))).base_id is None
