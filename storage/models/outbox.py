"""Every notification goes through the outbox, enqueued in the transaction that causes it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.models._base import short, when


class OutboxMessage(SQLModel, table=True):
    """One message to one account. `dedupe_key` makes enqueueing idempotent.

    The payload holds a locale key and its parameters, never rendered text: the message is
    rendered at send time in the recipient's language, and personal data is re-read then.
    """

    __tablename__ = "outbox"

    id: int | None = Field(default=None, primary_key=True)
    dedupe_key: str = Field(sa_type=String(200))
    account_id: int = Field(foreign_key="account.id", index=True)
    kind: str = Field(max_length=48)
    subject: str | None = Field(default=None, max_length=64)  # e.g. "application:17"
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    urgent: bool = Field(default=False)
    deadline_at: datetime | None = when()
    not_before: datetime | None = when()
    status: str = short(16, default="pending")
    attempts: int = Field(default=0)
    lease_until: datetime | None = when()
    lease_owner: str | None = Field(default=None, max_length=64)
    created_at: datetime | None = when()
    sent_at: datetime | None = when()
    chat_id: int | None = Field(default=None, sa_type=BigInteger)
    message_id: int | None = None
    last_error: str | None = Field(default=None, max_length=300)

    __table_args__ = (
        UniqueConstraint("dedupe_key"),
        Index(None, "status", "deadline_at", "id"),
        Index(None, "kind", "subject"),
    )
