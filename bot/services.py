"""The long-lived parts every handler may need, built once per process."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from bot.config import Settings
from bot.fsm_storage import SqlStorage
from bot.reply_marks import ReplyMarks
from storage.crypto import FieldCipher
from storage.db import Database, GroupCommit
from workflow.clock import Clock
from workflow.context import Ctx


@dataclass
class Services:
    settings: Settings
    db: Database
    cipher: FieldCipher
    clock: Clock
    fsm_storage: SqlStorage

    @cached_property
    def reply_marks(self) -> ReplyMarks:
        """Which owed replies went out (bot/unit.py), in a file beside the data."""
        return ReplyMarks(self.settings.data_dir / "replies-sent.log")

    @cached_property
    def reply_clears(self) -> GroupCommit[int]:
        """Updates whose owed calls all went out: their rows cleared together (bot/unit.py)."""
        from bot.unit import clear_replies

        return GroupCommit(self.db, clear_replies)

    def ctx(self, session) -> Ctx:  # type: ignore[no-untyped-def]
        return Ctx(
            session=session,
            clock=self.clock,
            cipher=self.cipher,
            upload_dir=self.settings.upload_dir,
            max_upload_bytes=self.settings.max_upload_bytes,
        )
