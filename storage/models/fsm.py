"""Dialog state kept in the database, so a half-filled form survives a restart."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlmodel import Field, SQLModel

from storage.models._base import when


class FsmRecord(SQLModel, table=True):
    __tablename__ = "fsm_record"

    key: str = Field(sa_type=String(160), primary_key=True)
    state: str | None = Field(default=None, max_length=128)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    updated_at: datetime | None = when()
