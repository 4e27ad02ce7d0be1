"""The update queue behind getUpdates, with Telegram's offset and long-polling rules."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from typing import Any

# What Telegram sends when allowed_updates is empty or was never set.
NOT_SENT_BY_DEFAULT = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
MAX_LIMIT = 100


class PollingConflictError(Exception):
    """A newer getUpdates call took over, as when two bot instances poll at once."""


@dataclass(eq=False)
class UpdateRecord:
    update_id: int
    payload: dict[str, Any]
    chat_id: int | None
    enqueued_at: float = field(default_factory=time.monotonic)
    fetched_at: float | None = None
    processed_at: float | None = None
    skipped: bool = False  # filtered out by allowed_updates, never delivered
    error: BaseException | None = None  # unhandled exception while the bot processed it
    processed: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def kind(self) -> str:
        return next((key for key in self.payload if key != "update_id"), "unknown")

    def describe(self) -> str:
        body = self.payload.get(self.kind, {})
        detail = ""
        if self.kind == "message":
            detail = repr(body.get("text") or body.get("caption") or _media_kind(body))
        elif self.kind == "callback_query":
            detail = f"data={body.get('data')!r}"
        return f"update {self.update_id} ({self.kind} in chat {self.chat_id} {detail})".rstrip()

    def mark_processed(self) -> None:
        if self.processed_at is None:
            self.processed_at = time.monotonic()
        self.processed.set()


class UpdateQueue:
    def __init__(self) -> None:
        self.records: dict[int, UpdateRecord] = {}
        self._pending: list[UpdateRecord] = []
        self._next_update_id = 1
        self._allowed: frozenset[str] | None = None
        self._changed = asyncio.Event()
        self._generation = 0
        self._closed = False

    def push(self, payload: dict[str, Any], chat_id: int | None) -> UpdateRecord:
        update_id = self._next_update_id
        self._next_update_id += 1
        record = UpdateRecord(update_id, {"update_id": update_id, **payload}, chat_id)
        self.records[update_id] = record
        self._pending.append(record)
        self._notify()
        return record

    def close(self) -> None:
        self._closed = True
        self._notify()

    async def fetch(
        self,
        *,
        offset: int | None,
        limit: int | None,
        poll_seconds: int | None,
        allowed_updates: list[str] | None,
    ) -> list[dict[str, Any]]:
        self._generation += 1
        generation = self._generation
        self._notify()  # an older call still waiting now ends with a conflict
        if allowed_updates is not None:
            self._allowed = frozenset(allowed_updates) or None
        self._confirm(offset)
        limit = min(max(limit or MAX_LIMIT, 1), MAX_LIMIT)
        deadline = time.monotonic() + max(poll_seconds or 0, 0)
        while True:
            ready = self._deliverable()
            if ready or self._closed:
                break
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            changed = self._changed
            try:
                await asyncio.wait_for(changed.wait(), remaining)
            except TimeoutError:
                break
            if generation != self._generation:
                raise PollingConflictError
        batch = ready[:limit]
        now = time.monotonic()
        for record in batch:
            record.fetched_at = record.fetched_at or now
        return [record.payload for record in batch]

    def set_allowed(self, allowed_updates: list[str]) -> None:
        self._allowed = frozenset(allowed_updates) or None

    def drop_pending(self) -> None:
        for record in self._pending:
            record.skipped = True
            record.mark_processed()
        self._pending = []

    def deliverable(self) -> list[UpdateRecord]:
        """What a webhook would be sent now (the same filter as getUpdates)."""
        return list(self._deliverable())

    def remove(self, record: UpdateRecord) -> None:
        """A webhook delivery was answered 2xx: the update is confirmed."""
        with contextlib.suppress(ValueError):
            self._pending.remove(record)

    async def changed(self, timeout: float) -> None:  # noqa: ASYNC109
        """Wait until something is pushed, or `timeout` seconds."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), timeout)

    def _notify(self) -> None:
        # Wake everyone waiting now; later waiters get a fresh event.
        self._changed.set()
        self._changed = asyncio.Event()

    def _confirm(self, offset: int | None) -> None:
        if offset is None:
            return
        if offset < 0:
            self._pending = self._pending[offset:]
        else:
            self._pending = [r for r in self._pending if r.update_id >= offset]

    def _deliverable(self) -> list[UpdateRecord]:
        allowed: list[UpdateRecord] = []
        for record in self._pending:
            if self._is_allowed(record.kind):
                allowed.append(record)
            else:
                record.skipped = True
                record.mark_processed()
        self._pending = allowed
        return allowed

    def _is_allowed(self, kind: str) -> bool:
        if self._allowed is None:
            return kind not in NOT_SENT_BY_DEFAULT
        return kind in self._allowed


def _media_kind(message: dict[str, Any]) -> str:
    for kind in ("document", "photo", "contact"):
        if kind in message:
            return kind
    return ""
