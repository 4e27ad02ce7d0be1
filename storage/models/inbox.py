"""Updates fetched from Telegram and not yet handled: polling confirms an update to Telegram
before its handler finishes, so the update is kept here until it is."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger
from sqlmodel import Field, SQLModel

from storage.models._base import when


class InboxUpdate(SQLModel, table=True):
    __tablename__ = "inbox_update"

    update_id: int = Field(
        sa_type=BigInteger, primary_key=True, sa_column_kwargs={"autoincrement": False}
    )
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    received_at: datetime | None = when()
    replays: int = Field(default=0)  # times it was picked up again after a restart
