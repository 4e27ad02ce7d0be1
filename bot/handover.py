"""The hand-over to the national platform as files: one `.xlsx` and one `.json` of every record
changed since the last hand-over. Behind both `zhupei handover` and the province's /handover."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from bot import exports
from workflow import handover
from workflow.actor import Actor
from workflow.context import Ctx


@dataclass(frozen=True)
class HandoverFiles:
    xlsx: Path
    json: Path
    rows: int
    since: datetime | None
    until: datetime


async def run_handover(ctx: Ctx, actor: Actor | None, out_dir: Path) -> HandoverFiles:
    """Record the hand-over in `ctx`'s transaction and write its files (the caller commits;
    files of a hand-over that is then rolled back are overwritten by the next one's number)."""
    result = await handover.run(ctx, actor)
    record = result.handover
    stem = f"handover_{record.id:05d}_{record.until:%Y%m%dT%H%M%SZ}"
    payload = {
        "handover_id": record.id,
        "since": record.since.isoformat() if record.since else None,
        "until": record.until.isoformat(),
        "count": len(result.rows),
        "fields": list(handover.FIELDS),
        "rows": result.rows,
    }
    xlsx_path, json_path = await asyncio.to_thread(
        _write,
        out_dir,
        stem,
        exports.handover_xlsx(result.rows, record.since, record.until),
        payload,
    )
    return HandoverFiles(xlsx_path, json_path, len(result.rows), record.since, record.until)


def _write(out_dir: Path, stem: str, xlsx: bytes, payload: dict[str, Any]) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    xlsx_path, json_path = out_dir / f"{stem}.xlsx", out_dir / f"{stem}.json"
    xlsx_path.write_bytes(xlsx)
    json_path.write_text(json.dumps(payload, ensure_ascii=False, indent=1), encoding="utf-8")
    for path in (xlsx_path, json_path):
        path.chmod(0o600)  # full ID numbers: owner-only
    return xlsx_path, json_path
