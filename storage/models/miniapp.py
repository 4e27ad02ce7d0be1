"""Drafts of the Mini App's forms: what a trainee typed and has not saved yet, kept on the
server so a closed page loses nothing. A draft can hold personal data (an emergency phone):
it is stored encrypted, like all personal data."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.models._base import short, when


class MiniAppDraft(SQLModel, table=True):
    __tablename__ = "miniapp_draft"

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    form: str = short(32)  # e.g. profile.basic, profile.education
    payload_enc: bytes = Field(sa_type=LargeBinary)  # the form's values as JSON, AES-GCM
    updated_at: datetime | None = when()

    __table_args__ = (UniqueConstraint("account_id", "form"),)
