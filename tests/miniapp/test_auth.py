"""Who may call the Mini App: Telegram's signature, its age, and a bound account."""

from __future__ import annotations

import time

from tests.factories import make_trainee
from tests.harness import BotHarness
from tests.miniapp.conftest import MiniApp
from tests.miniapp_support import sign_init_data


async def test_missing_forged_expired_and_unbound_init_data_are_refused(
    app: BotHarness, miniapp: MiniApp
) -> None:
    async with app.ctx() as ctx:
        await make_trainee(ctx, tg_user_id=5001)

    status, body = await miniapp.call("me")
    assert status == 401 and body["error"] == "auth.missing"
    assert body["message"] == "请从 Telegram 机器人中的按钮打开本页面。"

    forged = sign_init_data("123:another-bots-token", 5001)
    status, body = await miniapp.call("me", init_data=forged)
    assert status == 401 and body["error"] == "auth.invalid"

    tampered = miniapp.init_data(5001).replace("5001", "5002", 1)
    status, body = await miniapp.call("me", init_data=tampered)
    assert status == 401 and body["error"] == "auth.invalid"

    stale = miniapp.init_data(5001, auth_date=time.time() - 25 * 3600, language_code="en")
    status, body = await miniapp.call("me", init_data=stale)
    assert status == 401 and body["error"] == "auth.expired"
    assert body["message"].startswith("The page's sign-in data has expired")

    status, body = await miniapp.as_user(5999, "me")
    assert status == 403 and body["error"] == "auth.unbound"
    assert "/register" in body["message"]


async def test_a_bound_trainee_gets_its_role_and_texts_in_its_language(
    app: BotHarness, miniapp: MiniApp
) -> None:
    async with app.ctx() as ctx:
        actor = await make_trainee(ctx, tg_user_id=5001)

    status, body = await miniapp.as_user(5001, "me", language_code="en")
    assert status == 200
    assert body["role"] == "trainee" and body["account_id"] == actor.account_id
    assert body["locale"] == "en"
    assert body["texts"]["miniapp.back"] == "Back"

    status, body = await miniapp.as_user(5001, "me", language_code="zh-hans")
    assert body["locale"] == "zh-CN" and body["texts"]["miniapp.back"] == "返回"


async def test_static_pages_are_served_and_nothing_outside_them(miniapp: MiniApp) -> None:
    async with miniapp.http.get(f"{miniapp.url}/app/") as response:
        assert response.status == 200
        assert "common.js" in await response.text()
    async with miniapp.http.get(f"{miniapp.url}/app/common.js") as response:
        assert response.status == 200
        assert "tgWebAppData" in await response.text()
    async with miniapp.http.get(f"{miniapp.url}/app/..%2Fserver.py") as response:
        assert response.status == 404
