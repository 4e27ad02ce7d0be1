"""学员信息变更申请 and 学员培训状态变更申请: filed by a base, decided by a commission."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from storage.models._base import short, when
from workflow.enums import ChangeKind, ChangeStatus


class ChangeRequest(SQLModel, table=True):
    __tablename__ = "change_request"

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="application.id", index=True)
    base_id: int = Field(foreign_key="base.id")
    kind: ChangeKind = short(24)
    old_value: str | None = Field(default=None, max_length=200)
    new_value: str | None = Field(default=None, max_length=200)
    status: ChangeStatus = short(16, default=ChangeStatus.PENDING)
    reason: str | None = Field(default=None, max_length=500)
    filed_by: int = Field(foreign_key="account.id")
    decided_by: int | None = Field(default=None, foreign_key="account.id")
    filed_at: datetime | None = when()
    decided_at: datetime | None = when()

    __table_args__ = (Index(None, "status", "base_id"),)
