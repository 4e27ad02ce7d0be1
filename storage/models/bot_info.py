"""What the bot learnt about itself from Telegram (its username from `getMe`), kept so that the
command line can print links to this bot even when it runs without a token."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlmodel import Field, SQLModel

from storage.models._base import when


class BotInfo(SQLModel, table=True):
    """A small key/value table: `username` → the bot's Telegram username (without @)."""

    __tablename__ = "bot_info"

    key: str = Field(sa_type=String(32), primary_key=True)
    value: str = Field(max_length=255)
    updated_at: datetime | None = when()
