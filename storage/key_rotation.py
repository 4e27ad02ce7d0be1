"""Re-sealing the personal data under the current key (`zhupei keys rotate`).

The cipher given holds the new key as current and the old ones as previous, so every reader
keeps working while rows are converted one batch at a time. A batch is one short transaction
that locks its rows (`FOR UPDATE` on PostgreSQL; SQLite serialises writers anyway) and rewrites
only the values not yet under the current key, with their blind indexes. Nothing is kept about
progress: what is left is known from the key id in each ciphertext, so an interrupted rotation
simply runs again. A handler writing a row during the rotation seals with the current key;
one that writes back an old value it read before (dialog state) is caught by the next pass,
which runs until nothing under an old key is left.

Pending SMS codes are keyed hashes that cannot be recomputed: a code sent before the rotation
is dropped and the user asks for a new one.
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, delete, select, update

from storage.crypto import FieldCipher, key_id_of
from storage.db import Database
from storage.models import (
    FsmRecord,
    InboxUpdate,
    MiniAppDraft,
    PhoneVerification,
    TraineeProfile,
    UpdateLog,
)

log = logging.getLogger(__name__)

INBOX_FIELD = "inbox_update"  # bot.polling seals the stored updates under this field
REPLIES_FIELD = "update_replies"  # bot.unit seals the replies an update still owes
DRAFT_FIELD = "miniapp_draft"  # workflow.drafts seals the Mini App's unsaved forms
# Dialog state keys holding a sealed value (handlers.trainee.ui.seal), and their field.
FSM_SEALED = {"id_enc": "fsm:id_number", "phone_enc": "fsm:phone"}
MAX_PASSES = 5

OnBatch = Callable[[str, int], Awaitable[None]]


@dataclass
class RotationReport:
    resealed: Counter[str] = field(default_factory=Counter)  # rows rewritten, per table
    dropped: Counter[str] = field(default_factory=Counter)  # rows removed (SMS codes)
    remaining: int = 0  # values still under an old key at the end
    passes: int = 0

    def __str__(self) -> str:
        done = ", ".join(f"{t}={n}" for t, n in sorted(self.resealed.items())) or "nothing"
        text = f"re-sealed {done}"
        if self.dropped:
            text += "; dropped " + ", ".join(f"{t}={n}" for t, n in sorted(self.dropped.items()))
        return text


def _table(model: Any) -> Table:
    return model.__table__  # type: ignore[no-any-return]


def _resealed_profile(cipher: FieldCipher, row: Any) -> dict[str, Any] | None:
    if all(
        cipher.is_current(v) for v in (row.id_number_enc, row.phone_enc, row.emergency_phone_enc)
    ):
        return None
    id_number = cipher.decrypt("id_number", row.id_number_enc)
    values: dict[str, Any] = {
        "id_number_enc": cipher.reseal("id_number", row.id_number_enc),
        "id_number_index": cipher.blind_index("id_number", f"{row.id_type}:{id_number}"),
        "emergency_phone_enc": cipher.reseal("emergency_phone", row.emergency_phone_enc),
    }
    if row.phone_enc is not None:
        phone = cipher.decrypt("phone", row.phone_enc)
        values["phone_enc"] = cipher.encrypt("phone", phone)
        values["phone_index"] = cipher.blind_index("phone", phone)
    return values


def _resealed_inbox(cipher: FieldCipher, row: Any) -> dict[str, Any] | None:
    if cipher.is_current(row.payload_enc):
        return None
    return {"payload_enc": cipher.reseal(INBOX_FIELD, row.payload_enc)}


def _resealed_replies(cipher: FieldCipher, row: Any) -> dict[str, Any] | None:
    if row.replies_enc is None or cipher.is_current(row.replies_enc):
        return None
    return {"replies_enc": cipher.reseal(REPLIES_FIELD, row.replies_enc)}


def _resealed_draft(cipher: FieldCipher, row: Any) -> dict[str, Any] | None:
    if cipher.is_current(row.payload_enc):
        return None
    return {"payload_enc": cipher.reseal(DRAFT_FIELD, row.payload_enc)}


def _sealed_value(text: Any) -> bytes | None:
    if not isinstance(text, str):
        return None
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def _resealed_fsm(cipher: FieldCipher, row: Any) -> dict[str, Any] | None:
    data = dict(row.data or {})
    changed = False
    for key, fld in FSM_SEALED.items():
        blob = _sealed_value(data.get(key))
        if blob is not None and not cipher.is_current(blob):
            data[key] = base64.b64encode(cipher.encrypt(fld, cipher.decrypt(fld, blob))).decode()
            changed = True
    return {"data": data} if changed else None


def _fsm_stale(cipher: FieldCipher, row: Any) -> bool:
    return _resealed_fsm(cipher, row) is not None


@dataclass(frozen=True)
class _Spec:
    name: str
    table: Table
    pk: str
    columns: Sequence[str]
    reseal: Callable[[FieldCipher, Any], dict[str, Any] | None]


SPECS = (
    _Spec(
        "trainee_profile",
        _table(TraineeProfile),
        "account_id",
        ("account_id", "id_type", "id_number_enc", "phone_enc", "emergency_phone_enc"),
        _resealed_profile,
    ),
    _Spec(
        "inbox_update",
        _table(InboxUpdate),
        "update_id",
        ("update_id", "payload_enc"),
        _resealed_inbox,
    ),
    _Spec(
        "update_log",
        _table(UpdateLog),
        "update_id",
        ("update_id", "replies_enc"),
        _resealed_replies,
    ),
    _Spec("fsm_record", _table(FsmRecord), "key", ("key", "data"), _resealed_fsm),
    _Spec("miniapp_draft", _table(MiniAppDraft), "id", ("id", "payload_enc"), _resealed_draft),
)


async def _batch(
    db: Database, cipher: FieldCipher, spec: _Spec, after: Any, size: int
) -> tuple[list[Any], int]:
    """One transaction: the next `size` rows after `after`; returns (keys, rows rewritten)."""
    async with db.transaction() as session:
        pk = spec.table.c[spec.pk]
        stmt = select(*(spec.table.c[c] for c in spec.columns)).order_by(pk).limit(size)
        if after is not None:
            stmt = stmt.where(pk > after)
        rows = (await session.execute(stmt.with_for_update())).all()
        rewritten = 0
        for row in rows:
            values = spec.reseal(cipher, row)
            if values is not None:
                await session.execute(
                    update(spec.table).where(pk == getattr(row, spec.pk)).values(**values)
                )
                rewritten += 1
    return [getattr(r, spec.pk) for r in rows], rewritten


async def _drop_codes(db: Database, cipher: FieldCipher) -> int:
    table = _table(PhoneVerification)
    async with db.transaction() as session:
        rows = (await session.execute(select(table.c.tg_user_id, table.c.phone_enc))).all()
        stale = [r.tg_user_id for r in rows if not cipher.is_current(r.phone_enc)]
        if stale:
            await session.execute(delete(table).where(table.c.tg_user_id.in_(stale)))
    return len(stale)


async def count_stale(db: Database, cipher: FieldCipher) -> Counter[str]:
    """Rows holding a value under a key other than the current one, per table."""
    stale: Counter[str] = Counter()
    async with db.session() as session:
        for spec in SPECS:
            cols = [spec.table.c[c] for c in spec.columns]
            for row in (await session.execute(select(*cols))).all():
                if spec.reseal is _resealed_fsm:
                    stale[spec.name] += _fsm_stale(cipher, row)
                else:
                    blobs = [
                        b
                        for c in spec.columns
                        if c.endswith("_enc") and (b := getattr(row, c)) is not None
                    ]
                    stale[spec.name] += not all(cipher.is_current(b) for b in blobs)
        codes = _table(PhoneVerification)
        for (blob,) in (await session.execute(select(codes.c.phone_enc))).all():
            stale["phone_verification"] += not cipher.is_current(blob)
    return +stale


async def rotate(
    db: Database,
    cipher: FieldCipher,
    *,
    batch_size: int = 200,
    on_batch: OnBatch | None = None,
) -> RotationReport:
    """Re-seal every value under `cipher`'s current key; `on_batch(table, rewritten)` is called
    after each committed batch (progress output)."""
    report = RotationReport()
    for _ in range(MAX_PASSES):
        report.passes += 1
        for spec in SPECS:
            after: Any = None
            while True:
                keys, rewritten = await _batch(db, cipher, spec, after, batch_size)
                report.resealed[spec.name] += rewritten
                if on_batch is not None:
                    await on_batch(spec.name, rewritten)
                if len(keys) < batch_size:
                    break
                after = keys[-1]
        report.dropped["phone_verification"] += await _drop_codes(db, cipher)
        stale = await count_stale(db, cipher)
        report.remaining = sum(stale.values())
        if not report.remaining:
            break
        log.info("values written back under an old key meanwhile: %s; another pass", dict(stale))
    report.dropped = +report.dropped
    return report


async def rows_per_key(db: Database) -> Counter[str]:
    """Profiles per key id of their ID number (`legacy` for version-1 ciphertexts)."""
    table = _table(TraineeProfile)
    counts: Counter[str] = Counter()
    async with db.session() as session:
        for (blob,) in (await session.execute(select(table.c.id_number_enc))).all():
            counts[key_id_of(blob) or "legacy"] += 1
    return counts
