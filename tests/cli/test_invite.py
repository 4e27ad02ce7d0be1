"""`zhupei invite`: a staff account and a one-time deep link that redeems exactly once."""

from __future__ import annotations

import pytest
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from storage.crypto import FieldCipher
from storage.models import BotInfo
from tests.cli.conftest import BOT, LINK, SETTING_NAME, BotApi, Zhupei, in_db, remember_bot
from workflow import accounts
from workflow.clock import SystemClock
from workflow.context import Ctx
from workflow.enums import Role
from workflow.errors import DomainError


def redeem(settings: Settings, cipher: FieldCipher, token: str, tg_user_id: int) -> object:
    async def work(session: AsyncSession) -> object:
        ctx = Ctx(session=session, clock=SystemClock(), cipher=cipher)
        try:
            account = await accounts.redeem_invitation(ctx, token, tg_user_id)
        except DomainError as exc:
            return exc.code
        return (account.role, account.display_name, account.base_id, account.city_id)

    return in_db(settings.resolved_database_url, work)


def test_invite_prints_a_link_that_redeems_once(
    zhupei: Zhupei, with_bases: Settings, cipher: FieldCipher
) -> None:
    result = zhupei(with_bases, "invite", "--role", "base", "--name", "王医生", "--base", "GZ01")
    assert result.code == 0, result.err
    assert "王医生 (base staff, 广州市红十字会医院 GZ01)" in result.out
    assert "valid until" in result.out and "(Asia/Shanghai)" in result.out
    links = LINK.findall(result.out)
    assert len(links) == 1
    token = links[0]

    role, name, base_id, city_id = redeem(with_bases, cipher, token, 5001)  # type: ignore[misc]
    assert (role, name, city_id) == (Role.BASE, "王医生", None) and base_id is not None
    assert redeem(with_bases, cipher, token, 5001) == "invite.used"
    assert redeem(with_bases, cipher, token, 5002) == "invite.used"
    assert redeem(with_bases, cipher, "not-a-token", 5003) == "invite.invalid"


def test_city_and_province(zhupei: Zhupei, with_bases: Settings, cipher: FieldCipher) -> None:
    city = zhupei(with_bases, "invite", "--role", "city", "--name", "审核员", "--city", "深圳市")
    assert city.code == 0 and "(city reviewer, 深圳市 4403)" in city.out
    province = zhupei(with_bases, "invite", "--role", "province", "--name", "省卫健委")
    assert province.code == 0
    role, *_ = redeem(with_bases, cipher, LINK.findall(province.out)[0], 6001)  # type: ignore[misc]
    assert role == Role.PROVINCE


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["--role", "base", "--name", "x"], 2, "--role base needs --base CODE"),
        (["--role", "city", "--name", "x"], 2, "--role city needs --city CODE"),
        (["--role", "province", "--name", "x", "--base", "GZ01"], 2, "--base goes with"),
        (["--role", "trainee", "--name", "x"], 2, "invalid choice"),
        (["--role", "base", "--name", "x", "--base", "NOPE"], 1, "no base with code 'NOPE'"),
        (["--role", "base", "--name", "x", "--base", "GZ01-1"], 1, "GZ01-1 is a local base"),
        (["--role", "city", "--name", "x", "--city", "4499"], 1, "no city with code or name"),
    ],
)
def test_invite_refusals(
    zhupei: Zhupei, with_bases: Settings, argv: list[str], code: int, message: str
) -> None:
    result = zhupei(with_bases, "invite", *argv)
    assert result.code == code
    assert message in result.err
    assert "Traceback" not in result.err


def stored_name(settings: Settings) -> str | None:
    async def work(session: AsyncSession) -> str | None:
        row = await session.get(BotInfo, "username")
        return row.value if row else None

    return in_db(settings.resolved_database_url, work)


def test_the_link_names_the_bot_getme_names(
    zhupei: Zhupei, with_bases: Settings, no_token: Settings, bot_api: BotApi
) -> None:
    assert with_bases.bot_username == SETTING_NAME != BOT
    result = zhupei(with_bases, "invite", "--role", "province", "--name", "省卫健委")
    assert result.code == 0, result.err
    assert f"https://t.me/{BOT}?start=" in result.out
    assert SETTING_NAME not in result.out and "zhupei_sandbox_bot" not in result.out
    assert bot_api.called("getMe") == 1
    assert stored_name(with_bases) == BOT

    # Later, without a token: the name the bot's getMe gave is remembered in the database.
    later = zhupei(no_token, "invite", "--role", "province", "--name", "省卫健委二")
    assert later.code == 0, later.err
    assert len(LINK.findall(later.out)) == 1
    assert bot_api.called("getMe") == 1


def test_without_a_token_or_a_known_name_no_link_is_guessed(
    zhupei: Zhupei, no_token: Settings, cipher: FieldCipher
) -> None:
    result = zhupei(no_token, "invite", "--role", "province", "--name", "省卫健委")
    assert result.code == 0, result.err
    assert "https://t.me/" not in result.out
    command = [line for line in result.out.splitlines() if line.startswith("/start ")]
    assert len(command) == 1
    assert "link is not known" in result.out and "BOT_TOKEN" in result.out
    role, *_ = redeem(no_token, cipher, command[0].split()[1], 6101)  # type: ignore[misc]
    assert role == Role.PROVINCE


def test_a_name_stored_for_another_bot_is_not_used_when_telegram_is_unreachable(
    zhupei: Zhupei, no_token: Settings
) -> None:
    remember_bot(no_token.resolved_database_url, "some_other_bot", "777:other-token")
    unreachable = no_token.model_copy(
        update={
            "bot_token": SecretStr("424242:cli-test-token"),
            "telegram_api_url": "http://127.0.0.1:9",  # nothing listens on the discard port
        }
    )
    result = zhupei(unreachable, "invite", "--role", "province", "--name", "省卫健委")
    assert result.code == 0, result.err
    assert "https://t.me/" not in result.out and "/start " in result.out
    # The same stored name serves when it is this token's bot's.
    remember_bot(no_token.resolved_database_url, "this_very_bot", "424242:cli-test-token")
    again = zhupei(unreachable, "invite", "--role", "province", "--name", "省卫健委二")
    assert "https://t.me/this_very_bot?start=" in again.out
