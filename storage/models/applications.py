"""Applications (志愿) from draft to check-in, and allocation offers (学员调配)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from storage.models._base import short, when
from workflow.enums import ApplicationStatus, CheckIn, OfferStatus, PersonnelType

_HOLDS = "status IN ('accepted', 'confirmed')"


class Application(SQLModel, table=True):
    """A trainee's application to one batch: the draft, the choice and its result.

    The status column is the state machine of `workflow.md`; the timestamps say when each step
    happened. `acceptable_at` and `deadline_at` are fixed when the result is sent, so the sweeps
    that remind and expire read them through an index instead of recomputing per row.
    """

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id")
    batch_id: int = Field(foreign_key="batch.id")
    cohort_year: int  # copied from the batch for the one-admission-per-year constraint
    status: ApplicationStatus = short(16, default=ApplicationStatus.DRAFT)
    step: str = Field(default="batch", max_length=24)  # where the wizard stands
    personnel_type: PersonnelType | None = short(16, default=None, nullable=True)
    intended_specialty_id: int | None = Field(default=None, foreign_key="specialty.id")
    specialty_id: int | None = Field(default=None, foreign_key="specialty.id")
    base_id: int | None = Field(default=None, foreign_key="base.id")  # national base
    site_id: int | None = Field(default=None, foreign_key="base.id")  # local base
    accept_reassignment: bool | None = None  # 是否接受专业调剂
    supplement: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)  # 补充报名信息
    submitted_at: datetime | None = when()
    pre_audited_at: datetime | None = when()
    not_admitted_reason: str | None = Field(default=None, max_length=500)
    admitted_at: datetime | None = when()
    sent_at: datetime | None = when()
    acceptable_at: datetime | None = when()
    deadline_at: datetime | None = when()
    answered_at: datetime | None = when()  # accepted, declined or expired
    confirmed_at: datetime | None = when()
    confirmed_by: int | None = Field(default=None, foreign_key="account.id")
    checkin: CheckIn | None = short(16, default=None, nullable=True)
    checkin_at: datetime | None = when()
    created_at: datetime | None = when()
    updated_at: datetime | None = when()

    __table_args__ = (
        UniqueConstraint("account_id", "batch_id"),
        Index(None, "batch_id", "base_id", "status"),
        Index(None, "base_id", "status"),
        Index(None, "status", "acceptable_at"),
        Index(None, "status", "deadline_at"),
        Index(None, "updated_at"),
        # At most one accepted admission per trainee and cohort year, across all batches.
        Index(
            "uq_application_one_admission_per_year",
            "account_id",
            "cohort_year",
            unique=True,
            sqlite_where=text(_HOLDS),
            postgresql_where=text(_HOLDS),
        ),
    )


class AllocationOffer(SQLModel, table=True):
    """学员调配: a free place offered to a trainee who accepted reassignment, not admitted."""

    __tablename__ = "allocation_offer"

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="application.id", index=True)
    base_id: int = Field(foreign_key="base.id")
    site_id: int = Field(foreign_key="base.id")
    specialty_id: int = Field(foreign_key="specialty.id")
    offered_by: int = Field(foreign_key="account.id")
    status: OfferStatus = short(16, default=OfferStatus.OFFERED)
    offered_at: datetime | None = when()
    expires_at: datetime | None = when(nullable=False)
    answered_at: datetime | None = when()

    __table_args__ = (
        Index(None, "status", "expires_at"),
        # One open offer per application at a time.
        Index(
            "uq_allocation_offer_open",
            "application_id",
            unique=True,
            sqlite_where=text("status = 'offered'"),
            postgresql_where=text("status = 'offered'"),
        ),
    )
