"""Which of an update's owed calls went out, noted the instant Telegram answered.

Telegram has no idempotency key: a message it accepted is in the chat, and sending it again
shows it twice. Recording the sending in the database takes a transaction (on SQLite it waits
for the one connection behind the other updates' work), and a process killed in that time found
the call still owed and sent it again. So each call that went out is first noted as one line
appended to a file beside the data: a write of a few bytes and no transaction, kept by the
kernel when the process dies. The database is told afterwards, as before (it is what another
instance goes by). After a restart, an owed call with its line is not sent again.

What remains is an answer lost with the process (on its way, or arrived but not yet read): the
call is sent again after the restart. Telegram has no idempotency key, so whether it had been
carried out cannot be known; for a message, showing it twice is what a person would rather
have than a step left unanswered. `tests/crash/test_kill.py` finds that the only repeat.

A line is `update_id handled_at sent`: `handled_at` (whole seconds, from the update's row) tells
a reused update id of another database apart. The file is rewritten when it grows, keeping the
lines of updates that still owe calls.
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime
from pathlib import Path

log = logging.getLogger(__name__)

REWRITE_BYTES = 1 << 20

Key = tuple[int, int]


def key_of(update_id: int, handled_at: datetime | None) -> Key:
    if handled_at is None:
        return (update_id, 0)
    if handled_at.tzinfo is None:
        handled_at = handled_at.replace(tzinfo=UTC)
    return (update_id, int(handled_at.timestamp()))


class ReplyMarks:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None
        self._sent: dict[Key, int] | None = None
        self._broken = False

    def _load(self) -> dict[Key, int]:
        if self._sent is None:
            self._sent = {}
            try:
                text = self.path.read_text()
            except FileNotFoundError:
                text = ""
            except OSError as exc:
                log.warning("cannot read %s (%s): owed replies may repeat", self.path, exc)
                text = ""
            for line in text.splitlines():
                parts = line.split()
                if len(parts) == 3 and all(p.isdigit() for p in parts):
                    key = (int(parts[0]), int(parts[1]))
                    self._sent[key] = max(self._sent.get(key, 0), int(parts[2]))
        return self._sent

    def sent(self, key: Key) -> int:
        """How many of the update's owed calls went out, by this file."""
        return self._load().get(key, 0)

    def note(self, key: Key, sent: int) -> None:
        """The update's first `sent` calls went out (or ended quietly)."""
        self._load()[key] = sent
        if self._broken:
            return
        try:
            if self._fd is None:
                self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            os.write(self._fd, f"{key[0]} {key[1]} {sent}\n".encode())
        except OSError as exc:
            self._broken = True
            log.warning("cannot write %s (%s): owed replies may repeat", self.path, exc)

    def forget(self, key: Key) -> None:
        """The update owes nothing any more (its row says so)."""
        self._load().pop(key, None)

    def rewrite(self, still_owed: set[Key]) -> None:
        """Keep only the lines of updates that still owe calls, once the file has grown."""
        try:
            if self.path.stat().st_size < REWRITE_BYTES:
                return
        except FileNotFoundError:
            return
        sent = {k: n for k, n in self._load().items() if k in still_owed}
        self._sent = sent
        tmp = self.path.with_name(self.path.name + ".new")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, "".join(f"{u} {h} {n}\n" for (u, h), n in sent.items()).encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.path)
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
