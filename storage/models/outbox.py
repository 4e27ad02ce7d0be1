"""Every notification goes through the outbox, enqueued in the transaction that causes it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, String, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from storage.models._base import required_when, short, when

WAITING = "status IN ('pending', 'sending')"


class OutboxMessage(SQLModel, table=True):
    """One message to one account. `dedupe_key` makes enqueueing idempotent.

    The payload holds a locale key and its parameters, never rendered text: the message is
    rendered at send time in the recipient's language, and personal data is re-read then.

    Status: pending → sending (claimed: `lease_owner` until `lease_until`) → sent, or a final
    skipped | superseded | expired | muted | blocked | unreachable | failed. A row whose lease
    ran out (its sender died) is claimed again. `edit_of` makes the row an edit of the message
    another row sent, instead of a new message.
    """

    __tablename__ = "outbox"

    id: int | None = Field(default=None, primary_key=True)
    dedupe_key: str = Field(sa_type=String(200))
    account_id: int = Field(foreign_key="account.id")
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
    edit_of: int | None = Field(default=None, foreign_key="outbox.id")
    last_error: str | None = Field(default=None, max_length=300)

    __table_args__ = (
        UniqueConstraint("dedupe_key"),
        # The rows waiting by status (the sweeps' supersede, the metrics), and the sender's
        # claim: the waiting rows only (also those whose lease ran out), nearest deadline first.
        Index(None, "status", "deadline_at", "id"),
        Index(
            "ix_outbox_waiting",
            "deadline_at",
            "id",
            sqlite_where=text(WAITING),
            postgresql_where=text(WAITING),
        ),
        # A recipient's rows, by subject in queue order: the claim's probes for the order of
        # one subject's notices.
        Index(None, "account_id", "subject", "id"),
        Index(None, "kind", "subject"),
    )


class OutboxLeader(SQLModel, table=True):
    """The one sender allowed to send now. The rate limits are counted by a sender, so with
    several bot processes only the holder of this lease sends; another takes over when it
    stops, or when its lease runs out (it died)."""

    __tablename__ = "outbox_leader"

    name: str = Field(primary_key=True, max_length=16)
    owner: str = Field(max_length=64)
    until: datetime = required_when()
