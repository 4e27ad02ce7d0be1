"""Updates fetched from Telegram and not yet handled: polling confirms an update to Telegram
before its handler finishes, so the update is kept here until it is. An update can carry a
typed password, an ID or a phone number: it is stored encrypted, like all personal data."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, LargeBinary
from sqlmodel import Field, SQLModel

from storage.models._base import when


class InboxUpdate(SQLModel, table=True):
    __tablename__ = "inbox_update"

    update_id: int = Field(
        sa_type=BigInteger, primary_key=True, sa_column_kwargs={"autoincrement": False}
    )
    payload_enc: bytes = Field(sa_type=LargeBinary)  # the Update as JSON, AES-GCM
    received_at: datetime | None = when()
    replays: int = Field(default=0)  # times it was picked up again after a restart
