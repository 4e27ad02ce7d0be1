"""The database as rows, to show that a refused update changed nothing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

import storage.models as models
from storage.db import Database

# Bookkeeping of the update path itself: every update is logged as handled, whatever it did.
BOOKKEEPING = {"update_log", "inbox_update", "outbox_leader"}


async def snapshot(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    out: dict[str, list[tuple[Any, ...]]] = {}
    async with db.transaction() as session:
        for table in models.metadata.sorted_tables:
            if table.name in BOOKKEEPING:
                continue
            rows = (await session.execute(select(table))).all()
            out[table.name] = sorted((tuple(r) for r in rows), key=repr)
    return out


def changed(before: dict[str, list[Any]], after: dict[str, list[Any]]) -> dict[str, Any]:
    """The tables whose rows differ, with what was added and removed."""
    diff = {}
    for name in before.keys() | after.keys():
        old, new = before.get(name, []), after.get(name, [])
        if old != new:
            diff[name] = {
                "added": [r for r in new if r not in old],
                "removed": [r for r in old if r not in new],
            }
    return diff
