"""`zhupei invite`: a staff account and a one-time deep link that redeems exactly once."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from storage.crypto import FieldCipher
from storage.importer import Kind
from tests.cli.conftest import LINK, Zhupei, in_db
from tests.cli.test_import import write_kind
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


@pytest.fixture
def with_bases(zhupei: Zhupei, migrated: Settings, tmp_path: Path) -> Settings:
    files = [write_kind(tmp_path, k, "csv") for k in (Kind.CITIES, Kind.BASES)]
    assert zhupei(migrated, "import", *files).code == 0
    return migrated


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
