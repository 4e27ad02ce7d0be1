"""The audit log: one row for every state change, never personal data."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index
from sqlmodel import Field, SQLModel

from storage.models._base import when


class AuditLog(SQLModel, table=True):
    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime | None = when(nullable=False)
    actor_id: int | None = Field(default=None, foreign_key="account.id")  # None: the system
    entity: str = Field(max_length=32)
    entity_id: int
    action: str = Field(max_length=48)
    from_state: str | None = Field(default=None, max_length=32)
    to_state: str | None = Field(default=None, max_length=32)
    reason: str | None = Field(default=None, max_length=500)
    detail: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)

    __table_args__ = (Index(None, "entity", "entity_id"), Index(None, "at"))


class Handover(SQLModel, table=True):
    """A hand-over of changed records to the national platform; the next one starts at `until`."""

    id: int | None = Field(default=None, primary_key=True)
    since: datetime | None = when()
    until: datetime | None = when(nullable=False)
    rows: int = 0
    actor_id: int | None = Field(default=None, foreign_key="account.id")
    created_at: datetime | None = when()
