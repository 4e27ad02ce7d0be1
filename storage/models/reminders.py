"""Which non-critical reminder kinds a user chose not to receive (/reminders)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from storage.models._base import when


class ReminderMute(SQLModel, table=True):
    """One muted kind of one account. Critical kinds are never stored here (workflow refuses)."""

    __tablename__ = "reminder_mute"

    account_id: int = Field(foreign_key="account.id", primary_key=True)
    kind: str = Field(max_length=48, primary_key=True)
    muted_at: datetime | None = when()
