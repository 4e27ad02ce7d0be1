"""`zhupei staff list | disable | enable | reinvite`: the operator's view of the staff accounts."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from storage.crypto import FieldCipher
from storage.models import Account, AuditLog
from tests.cli.conftest import LINK, BotApi, Zhupei, in_db
from tests.cli.test_invite import redeem


@pytest.fixture
def staffed(zhupei: Zhupei, with_bases: Settings, cipher: FieldCipher) -> dict[str, int]:
    """A base member (bound to Telegram user 5001), a city reviewer and the province (not
    bound yet); their account ids by name."""
    ids = {}
    for argv in (
        ["--role", "base", "--name", "王医生", "--base", "GZ01"],
        ["--role", "city", "--name", "审核员", "--city", "4403"],
        ["--role", "province", "--name", "省卫健委"],
    ):
        out = zhupei(with_bases, "invite", *argv)
        assert out.code == 0, out.err
        if argv[3] == "王医生":
            redeem(with_bases, cipher, LINK.findall(out.out)[0], 5001)

    async def work(session: AsyncSession) -> dict[str, int]:
        rows = await session.execute(select(Account.display_name, Account.id))
        return {name: account_id for name, account_id in rows}

    ids.update(in_db(with_bases.resolved_database_url, work))
    return ids


def row_of(out: str, account_id: int) -> list[str]:
    for line in out.splitlines():
        cells = re.split(r"\s{2,}", line.strip())
        if cells[0] == str(account_id):
            return cells
    raise AssertionError(f"no row for {account_id} in\n{out}")


def audit_rows(settings: Settings, account_id: int) -> list[tuple[str, int | None]]:
    async def work(session: AsyncSession) -> list[tuple[str, int | None]]:
        rows = await session.execute(
            select(AuditLog.action, AuditLog.actor_id)
            .where(AuditLog.entity == "account", AuditLog.entity_id == account_id)
            .order_by(AuditLog.id)
        )
        return [(action, who) for action, who in rows]

    return in_db(settings.resolved_database_url, work)


def test_list_disable_enable(
    zhupei: Zhupei, with_bases: Settings, staffed: dict[str, int], bot_api: BotApi
) -> None:
    listed = zhupei(with_bases, "staff", "list")
    assert listed.code == 0, listed.err
    header = re.split(r"\s{2,}", listed.out.splitlines()[0])
    assert header == ["id", "role", "name", "base/city", "active", "bound"]
    base = staffed["王医生"]
    assert row_of(listed.out, base) == [
        str(base),
        "base",
        "王医生",
        "广州市红十字会医院 GZ01",
        "yes",
        "yes",
    ]
    assert row_of(listed.out, staffed["审核员"])[2:] == ["审核员", "深圳市 4403", "yes", "no"]
    assert row_of(listed.out, staffed["省卫健委"])[1:4] == ["province", "省卫健委", "-"]

    off = zhupei(with_bases, "staff", "disable", base)
    assert off.code == 0, off.err
    assert f"Disabled #{base} 王医生 (base staff)" in off.out
    assert "command menu is removed" in off.out
    assert bot_api.called("deleteMyCommands") == 1
    assert row_of(zhupei(with_bases, "staff", "list").out, base)[4] == "DISABLED"
    assert audit_rows(with_bases, base)[-1] == ("disabled", None)  # by the operator

    again = zhupei(with_bases, "staff", "disable", base)
    assert again.code == 1 and "王医生 is already disabled" in again.err

    on = zhupei(with_bases, "staff", "enable", base)
    assert on.code == 0, on.err
    assert "has its command menu back" in on.out
    assert bot_api.called("setMyCommands") == 1
    assert row_of(zhupei(with_bases, "staff", "list").out, base)[4] == "yes"
    assert audit_rows(with_bases, base)[-1] == ("enabled", None)


def test_reinvite_revokes_the_unused_link(
    zhupei: Zhupei, with_bases: Settings, staffed: dict[str, int], cipher: FieldCipher
) -> None:
    city = staffed["审核员"]
    first = zhupei(with_bases, "staff", "reinvite", city)
    second = zhupei(with_bases, "staff", "reinvite", city, "--ttl-hours", "5")
    assert first.code == second.code == 0, second.err
    assert f"New invitation for #{city} 审核员 (city reviewer)" in second.out
    old, new = LINK.findall(first.out)[0], LINK.findall(second.out)[0]
    assert redeem(with_bases, cipher, old, 6001) == "invite.revoked"
    assert redeem(with_bases, cipher, new, 6001)[1] == "审核员"  # type: ignore[index]
    assert ("invitations_revoked", None) in audit_rows(with_bases, city)

    # A disabled account gets no new link, and its older link no longer binds a chat.
    province = staffed["省卫健委"]
    assert zhupei(with_bases, "staff", "disable", province).code == 0
    refused = zhupei(with_bases, "staff", "reinvite", province)
    assert refused.code == 1 and "enable it before inviting again" in refused.err


def test_refusals(zhupei: Zhupei, with_bases: Settings, staffed: dict[str, int]) -> None:
    missing = zhupei(with_bases, "staff", "disable", 999)
    assert missing.code == 1 and "not found" in missing.err.lower()
    usage = zhupei(with_bases, "staff", "disable")
    assert usage.code == 2
    bad = zhupei(with_bases, "staff", "reinvite", staffed["审核员"], "--ttl-hours", "0")
    assert bad.code == 2 and "--ttl-hours" in bad.err
    for result in (missing, usage, bad):
        assert "Traceback" not in result.err
