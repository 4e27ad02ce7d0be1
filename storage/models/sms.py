"""Every SMS code a chat asked for, sent or not: the daily caps per chat and per number, and the
resend interval, outlive the code itself (a cancelled dialog forgets its code, not these)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger
from sqlmodel import Field, SQLModel

from storage.models._base import required_when


class SmsSend(SQLModel, table=True):
    __tablename__ = "sms_send"

    id: int | None = Field(default=None, primary_key=True)
    tg_user_id: int = Field(sa_type=BigInteger, index=True)
    phone_index: str = Field(max_length=64, index=True)  # keyed blind index of the number
    sent_at: datetime = required_when()
