"""A closed page loses nothing: what was typed is kept on the server (sealed) and comes back
when the form is opened again, until it is saved or discarded."""

from __future__ import annotations

from sqlalchemy import func, select

from storage.models import MiniAppDraft, TraineeProfile
from tests.conftest import TEST_KEY
from tests.factories import make_trainee
from tests.harness import BotHarness
from tests.miniapp.conftest import MiniApp


async def test_typed_values_survive_a_closed_page_until_saved_or_discarded(
    app: BotHarness, miniapp: MiniApp, phone
) -> None:  # type: ignore[no-untyped-def]
    async with app.ctx() as ctx:
        actor = await make_trainee(ctx, tg_user_id=6501, complete=False)
    url = miniapp.page("profile.html", 6501)
    await phone.goto(url)
    await phone.wait_for_selector("#contact-save")
    async with phone.expect_response(lambda r: r.url.endswith("/profile/contact/draft")):
        await phone.fill("#contact-emergency_phone", "13955556666")
    async with phone.expect_response(lambda r: r.url.endswith("/profile/basic/draft")):
        await phone.fill("#basic-ethnicity", "回族")
    await phone.goto("about:blank")  # the page is closed without saving

    async with app.ctx() as ctx:
        drafts = (await ctx.session.scalars(select(MiniAppDraft).order_by(MiniAppDraft.form))).all()
        assert [d.form for d in drafts] == ["profile.basic", "profile.contact"]
        assert b"13955556666" not in drafts[1].payload_enc  # sealed like personal data
        assert (await ctx.session.get(TraineeProfile, actor.account_id)).ethnicity is None

    await phone.goto(url)
    await phone.wait_for_selector("#basic-restored")
    assert await phone.input_value("#basic-ethnicity") == "回族"
    assert await phone.input_value("#contact-emergency_phone") == "13955556666"
    # the completeness counts the kept values: 民族 is no longer said to be missing
    assert "请选择民族" not in await phone.inner_text("#basic-missing")

    await phone.click("#contact-discard")
    await phone.wait_for_function("!document.getElementById('contact-restored')")
    assert await phone.input_value("#contact-emergency_phone") == ""
    await phone.select_option("#basic-political_status", "群众")
    await phone.click("#basic-save")
    await phone.wait_for_selector("#toast.ok")
    async with app.ctx() as ctx:
        p = await ctx.session.get(TraineeProfile, actor.account_id)
        assert (p.ethnicity, p.political_status, p.emergency_phone_enc) == ("回族", "群众", None)
        assert await ctx.session.scalar(select(func.count(MiniAppDraft.id))) == 0


async def test_key_rotation_reseals_the_drafts(app: BotHarness, db) -> None:  # type: ignore[no-untyped-def]
    from storage.crypto import FieldCipher
    from storage.key_rotation import count_stale, rotate
    from workflow import drafts

    async with app.ctx() as ctx:
        actor = await make_trainee(ctx, tg_user_id=6502, complete=False)
        await drafts.keep(ctx, actor, "profile.contact", {"emergency_phone": "13955556666"})
    new_key = bytes(range(1, 33))
    rotating = FieldCipher(new_key, [TEST_KEY])  # the harness seals with TEST_KEY
    assert (await count_stale(db, rotating))["miniapp_draft"] == 1
    await rotate(db, rotating)
    assert (await count_stale(db, rotating))["miniapp_draft"] == 0
    async with db.session() as session:
        row = await session.scalar(select(MiniAppDraft))
        assert "13955556666" in FieldCipher(new_key).decrypt("miniapp_draft", row.payload_enc)
