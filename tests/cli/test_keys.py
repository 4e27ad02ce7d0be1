"""Key rotation on a real database: data sealed under key A, rotated to key B; readers keep
working during the rotation, an interrupted rotation resumes, and at the end key B alone reads
everything and finds every row by its blind index."""

from __future__ import annotations

import asyncio
import base64
import os
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from storage.crypto import FieldCipher, read_key_file, write_key_file
from storage.db import Database
from storage.key_rotation import INBOX_FIELD, count_stale, rotate
from storage.models import FsmRecord, InboxUpdate, PhoneVerification, TraineeProfile
from tests.cli.conftest import Zhupei, in_db
from tests.conftest import TEST_KEY
from tests.factories import make_id, make_phone
from workflow import accounts
from workflow.clock import FrozenClock
from workflow.context import Ctx
from workflow.errors import DomainError

KEY_A = TEST_KEY
KEY_B = os.urandom(32)
PEOPLE = 5


def b64(key: bytes) -> str:
    return base64.b64encode(key).decode()


def _ctx(session: AsyncSession, cipher: FieldCipher) -> Ctx:
    from datetime import UTC, datetime

    return Ctx(session=session, clock=FrozenClock(datetime(2026, 7, 1, tzinfo=UTC)), cipher=cipher)


def populate(url: str) -> list[tuple[str, str]]:
    """Trainees registered under key A (with an emergency phone), a dialog holding a sealed ID
    number, a stored update and a pending SMS code; returns the (ID number, phone) pairs."""
    cipher = FieldCipher(KEY_A)
    people = [(make_id(), make_phone()) for _ in range(PEOPLE)]

    async def work(session: AsyncSession) -> None:
        ctx = _ctx(session, cipher)
        for i, (number, phone) in enumerate(people):
            account = await accounts.register_trainee(
                ctx,
                accounts.Registration(
                    program="residency",  # type: ignore[arg-type]
                    name="张三",
                    id_type="resident_id",  # type: ignore[arg-type]
                    id_number=number,
                    login_name=f"rot{i}",
                    password="Secret123",
                    phone=phone,
                ),
                50_000 + i,
            )
            profile = await session.get(TraineeProfile, account.id)
            assert profile is not None
            profile.emergency_phone_enc = cipher.encrypt("emergency_phone", "+8613900000000")
        sealed = base64.b64encode(cipher.encrypt("fsm:id_number", people[0][0])).decode()
        session.add(FsmRecord(key="dialog:1", state="reg:phone", data={"id_enc": sealed}))
        session.add(InboxUpdate(update_id=7, payload_enc=cipher.encrypt(INBOX_FIELD, "{}")))
        session.add(
            PhoneVerification(
                tg_user_id=9, phone_enc=cipher.encrypt("sms_phone", people[1][1]), code_hash="x"
            )
        )

    in_db(url, work)
    return people


async def read_everything(db: Database, cipher: FieldCipher, people: list[tuple[str, str]]) -> None:
    """What the bot reads: every encrypted column decrypts, every person is found by ID number
    and by phone (the registration checks refuse them as taken)."""
    async with db.transaction() as session:
        profiles = (await session.scalars(select(TraineeProfile))).all()
        numbers = {cipher.decrypt("id_number", p.id_number_enc) for p in profiles}
        phones = {cipher.decrypt("phone", p.phone_enc) for p in profiles if p.phone_enc}
        assert numbers == {n for n, _ in people}
        assert phones == {p for _, p in people}
        for p in profiles:
            assert p.emergency_phone_enc is not None
            assert cipher.decrypt("emergency_phone", p.emergency_phone_enc) == "+8613900000000"
        ctx = _ctx(session, cipher)
        for number, phone in people:
            with pytest.raises(DomainError, match=r"reg\.id_registered"):
                await accounts.check_identity(ctx, "resident_id", number)
            with pytest.raises(DomainError, match=r"reg\.phone_registered"):
                await accounts.phone_free(ctx, phone)
        fsm = await session.get(FsmRecord, "dialog:1")
        assert fsm is not None
        sealed = base64.b64decode(fsm.data["id_enc"])
        assert cipher.decrypt("fsm:id_number", sealed) == people[0][0]
        inbox = await session.get(InboxUpdate, 7)
        assert inbox is not None and cipher.decrypt(INBOX_FIELD, inbox.payload_enc) == "{}"


def test_rotation_with_readers_and_an_interruption(migrated: Settings) -> None:
    url = migrated.resolved_database_url
    people = populate(url)
    rotating = FieldCipher(KEY_B, [KEY_A])

    class Interrupted(Exception):
        pass

    async def go() -> None:
        db = Database(url)
        try:
            batches = 0

            async def reader_then_stop(table: str, rewritten: int) -> None:
                nonlocal batches
                batches += 1
                await read_everything(db, rotating, people)  # a reader mid-rotation
                if batches == 2:
                    raise Interrupted

            with pytest.raises(Interrupted):
                await rotate(db, rotating, batch_size=2, on_batch=reader_then_stop)
            stale = await count_stale(db, rotating)
            assert 0 < stale["trainee_profile"] < PEOPLE  # half done, committed batch by batch
            with pytest.raises(Exception):  # noqa: B017 - key B alone cannot read it all yet
                await read_everything(db, FieldCipher(KEY_B), people)

            report = await rotate(db, rotating, batch_size=2)  # resumed
            assert report.remaining == 0
            assert report.resealed["trainee_profile"] == stale["trainee_profile"]
            assert report.resealed["fsm_record"] == 1 and report.resealed["inbox_update"] == 1
            assert report.dropped["phone_verification"] == 1  # its code hash was under key A

            await read_everything(db, FieldCipher(KEY_B), people)
            with pytest.raises(Exception):  # noqa: B017 - key A no longer reads anything
                await read_everything(db, FieldCipher(KEY_A), people)
            async with db.session() as session:
                assert await session.get(PhoneVerification, 9) is None
        finally:
            await db.dispose()

    asyncio.run(go())


def test_keys_new_and_rotate_with_a_key_file(
    migrated: Settings, data_dir: Path, zhupei: Zhupei
) -> None:
    key_file = data_dir / "zhupei.key"
    write_key_file(key_file, [b64(KEY_A)])
    settings = migrated.model_copy(update={"encryption_key": None, "key_file": key_file})
    url = settings.resolved_database_url
    people = populate(url)

    new = zhupei(settings, "keys", "new")
    assert new.code == 0, new.err
    keys = read_key_file(key_file)
    assert keys[1] == KEY_A and len(keys) == 2  # the old key stays, below the new one
    assert key_file.stat().st_mode & 0o077 == 0

    status = zhupei(settings, "keys", "status")
    assert f"previous keys: {FieldCipher(KEY_A).key_id}" in status.out
    assert "trainee_profile=5" in status.out

    rotated = zhupei(settings, "keys", "rotate", "--batch-size", "2")
    assert rotated.code == 0, rotated.err
    assert read_key_file(key_file) == [keys[0]]  # only the new key is left

    async def check() -> None:
        db = Database(url)
        try:
            await read_everything(db, FieldCipher(keys[0]), people)
        finally:
            await db.dispose()

    asyncio.run(check())
    status = zhupei(settings, "keys", "status")
    assert "nothing: no rotation pending" in status.out


def test_keys_rotate_with_environment_keys(migrated: Settings, zhupei: Zhupei) -> None:
    url = migrated.resolved_database_url
    people = populate(url)
    settings = migrated.model_copy(
        update={
            "encryption_key": SecretStr(b64(KEY_B)),
            "encryption_key_previous": SecretStr(b64(KEY_A)),
        }
    )
    rotated = zhupei(settings, "keys", "rotate")
    assert rotated.code == 0, rotated.err
    assert "remove ENCRYPTION_KEY_PREVIOUS" in rotated.out

    async def check() -> None:
        db = Database(url)
        try:
            await read_everything(db, FieldCipher(KEY_B), people)
        finally:
            await db.dispose()

    asyncio.run(check())


def test_a_value_under_an_unconfigured_key_is_refused() -> None:
    blob = FieldCipher(KEY_B).encrypt("phone", "+8613800000000")
    with pytest.raises(ValueError, match="not configured"):
        FieldCipher(KEY_A).decrypt("phone", blob)
    # A version-1 value (no key id) written before key ids existed still opens.
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from storage.crypto import _derive

    nonce = os.urandom(12)
    sealed = AESGCM(_derive(KEY_A, b"zhupei/aes-gcm/v1")).encrypt(nonce, b"old", b"phone")
    legacy = bytes([1]) + nonce + sealed
    assert FieldCipher(KEY_B, [KEY_A]).decrypt("phone", legacy) == "old"
    assert not FieldCipher(KEY_A).is_current(legacy)
