"""What the trainee's chat remembers besides dialog state: the status card message, so the bot
can edit it in place when the state it shows changes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger
from sqlmodel import Field, SQLModel

from storage.models._base import when


class StatusCard(SQLModel, table=True):
    __tablename__ = "trainee_status_card"

    account_id: int = Field(foreign_key="account.id", primary_key=True)
    chat_id: int = Field(sa_type=BigInteger)
    message_id: int
    updated_at: datetime | None = when()
