"""The demo clock: the real time plus an offset that the page moves forward. The workflow, the
scheduler, the outbox and the dialog storage all read this one clock; the offset is kept in the
data directory so a restart does not send the demo back in time."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

MAX_STEP = timedelta(days=60)


class DemoClock:
    def __init__(self, path: Path | None = None) -> None:
        self._path = path
        self._offset = timedelta(0)
        if path is not None and path.exists():
            seconds = json.loads(path.read_text("utf-8")).get("offset_seconds", 0)
            self._offset = timedelta(seconds=float(seconds))

    @property
    def offset(self) -> timedelta:
        return self._offset

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset

    def advance(self, delta: timedelta) -> datetime:
        """Move forward (never back: the workflow's history only goes one way)."""
        if delta <= timedelta(0) or delta > MAX_STEP:
            raise ValueError(f"the demo clock moves forward by up to {MAX_STEP.days} days")
        self._offset += delta
        self._save()
        return self.now()

    def _save(self) -> None:
        if self._path is None:
            return
        tmp = self._path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"offset_seconds": self._offset.total_seconds()}), "utf-8")
        os.replace(tmp, self._path)
