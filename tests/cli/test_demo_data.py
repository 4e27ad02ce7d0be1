"""`zhupei demo-data`: the promised numbers, a second run that adds nothing, and no personal
data in clear in the SQLite file."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from reference import demo_data
from storage.crypto import FieldCipher
from storage.db import Database
from storage.models import (
    Account,
    Base,
    Batch,
    BatchPersonnelType,
    City,
    Invitation,
    Plan,
    Specialty,
)
from tests.cli.conftest import LINK, Zhupei, in_db, make_settings, remember_bot
from tests.cli.test_invite import redeem
from tests.factories import make_id, make_phone
from workflow import accounts
from workflow.clock import SystemClock
from workflow.context import Ctx
from workflow.enums import BaseKind, Program, Role, Supervisor


async def census(session: AsyncSession) -> dict[str, object]:
    async def n(model: type, *where: object) -> int:
        stmt = select(func.count()).select_from(model)
        for w in where:
            stmt = stmt.where(w)  # type: ignore[arg-type]
        return int(await session.scalar(stmt) or 0)

    now = datetime.now(UTC)
    batches = list(await session.scalars(select(Batch)))
    return {
        "cities": await n(City),
        "national": await n(Base, Base.kind == BaseKind.NATIONAL),
        "local": await n(Base, Base.kind == BaseKind.LOCAL),
        "provincial": await n(
            Base, Base.kind == BaseKind.NATIONAL, Base.supervisor == Supervisor.PROVINCE
        ),
        "specialties": await n(Specialty),
        "batches": len(batches),
        "open": sorted(
            str(b.program)
            for b in batches
            if b.apply_start <= now <= b.apply_end
            and b.apply_end < b.confirm_start < b.confirm_end
            and b.lock_hours == 12
        ),
        "types": await n(BatchPersonnelType),
        "plans": await n(Plan),
        "staff": await n(Account, Account.role != Role.TRAINEE),
        "invitations": await n(Invitation),
    }


def test_demo_data_loads_what_it_promises(
    zhupei: Zhupei, migrated: Settings, cipher: FieldCipher
) -> None:
    remember_bot(migrated.resolved_database_url)  # a bot ran with its token on this database
    first = zhupei(migrated, "demo-data")
    assert first.code == 0, first.err
    assert "Demo data loaded." in first.out
    tokens = LINK.findall(first.out)
    assert len(tokens) == demo_data.INVITATIONS

    url = migrated.resolved_database_url
    expected = {
        "cities": demo_data.CITIES,
        "national": demo_data.NATIONAL_BASES,
        "local": demo_data.LOCAL_BASES,
        "provincial": 17,
        "specialties": demo_data.SPECIALTIES,
        "batches": demo_data.BATCHES,
        "open": sorted([Program.ASSISTANT_GP.value, Program.RESIDENCY.value]),
        "types": 6 + 5,
        "plans": demo_data.PLANS,
        "staff": 3,
        "invitations": 3,
    }
    assert expected["cities"] == 21 and expected["national"] >= 25
    assert in_db(url, census) == expected

    second = zhupei(migrated, "demo-data")
    assert second.code == 0, second.err
    assert "already there" in second.out
    fresh = LINK.findall(second.out)
    assert len(fresh) == 3 and not set(fresh) & set(tokens)
    assert in_db(url, census) == {**expected, "invitations": 6}

    roles = [redeem(migrated, cipher, t, 7000 + i)[0] for i, t in enumerate(fresh)]  # type: ignore[index]
    assert roles == [Role.BASE, Role.CITY, Role.PROVINCE]
    assert redeem(migrated, cipher, tokens[0], 7100)[0] == Role.BASE  # type: ignore[index]


def test_no_personal_data_in_clear_in_the_sqlite_file(
    zhupei: Zhupei, sqlite_url: str, data_dir: Path, cipher: FieldCipher
) -> None:
    settings = make_settings(sqlite_url, data_dir)
    assert zhupei(settings, "db", "upgrade").code == 0
    remember_bot(sqlite_url)
    demo = zhupei(settings, "demo-data")
    assert demo.code == 0
    people = [(make_id(), make_phone()) for _ in range(2)]
    db_file = data_dir / "zhupei.db"

    def raw_bytes() -> bytes:
        files = (db_file, db_file.with_name("zhupei.db-wal"))
        return b"".join(p.read_bytes() for p in files if p.exists())

    async def register_and_read() -> bytes:
        db = Database(sqlite_url)
        try:
            async with db.transaction() as session:
                ctx = Ctx(session=session, clock=SystemClock(), cipher=cipher)
                for i, (id_number, phone) in enumerate(people):
                    registration = accounts.Registration(
                        program=Program.RESIDENCY,
                        name="陈小明",
                        id_type="resident_id",  # type: ignore[arg-type]
                        id_number=id_number,
                        login_name=f"chen{i}xm",
                        password="Secret123",
                        phone=phone,
                    )
                    await accounts.register_trainee(ctx, registration, 8000 + i)
            assert db_file.with_name("zhupei.db-wal").exists()
            return raw_bytes()  # committed, still in the WAL
        finally:
            await db.dispose()

    while_open = asyncio.run(register_and_read())
    for raw in (while_open, raw_bytes()):  # and after the checkpoint on close
        assert "陈小明".encode() in raw  # names are not encrypted: the search does look
        needles = ["Secret123", *LINK.findall(demo.out)]
        for id_number, phone in people:
            national = phone.removeprefix("+86")
            needles += [
                id_number,
                phone,
                national,
                f"{national[:3]} {national[3:7]} {national[7:]}",
            ]
        for needle in needles:
            for encoding in ("utf-8", "utf-16-le"):
                assert needle.encode(encoding) not in raw, needle
