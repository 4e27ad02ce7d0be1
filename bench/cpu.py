"""CPU time, which the load of other work on the machine changes far less than wall-clock time:
of this process, and of the PostgreSQL server processes serving an engine's connections (read
from /proc: Linux, the server on this host; None otherwise)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine


class CpuMeter:
    """Counts the CPU seconds of this process and of the engine's PostgreSQL backends."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.backends: set[int] = set()
        self.postgresql = engine.dialect.name == "postgresql"
        if self.postgresql:
            event.listen(engine.sync_engine, "connect", self._connected)

    def _connected(self, dbapi_conn: Any, _record: Any) -> None:
        cursor = dbapi_conn.cursor()
        cursor.execute("SELECT pg_backend_pid()")
        self.backends.add(cursor.fetchone()[0])
        cursor.close()

    def server(self) -> float | None:
        if not self.postgresql or not Path("/proc/self/stat").exists():
            return None
        ticks = 0
        for pid in self.backends:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:  # the server runs elsewhere, or the connection closed
                continue
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
        return ticks / os.sysconf("SC_CLK_TCK")

    def snapshot(self) -> tuple[float, float | None]:
        return time.process_time(), self.server()

    def since(self, start: tuple[float, float | None]) -> tuple[float, float | None]:
        """(this process, the database server) CPU seconds since `start`."""
        process, server = self.snapshot()
        server_used = None if server is None or start[1] is None else server - start[1]
        return process - start[0], server_used
