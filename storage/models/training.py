"""Training years (培训年限), reductions (减免) and the documents that support them."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.models._base import short, when
from workflow.enums import DocumentKind, ReductionStatus, TrainingStatus


class Training(SQLModel, table=True):
    """A checked-in trainee's training: duration, dates and status."""

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="application.id")
    account_id: int = Field(foreign_key="account.id", index=True)
    base_id: int = Field(foreign_key="base.id", index=True)
    duration_years: int | None = None  # 1, 2 or 3
    start_date: date | None = None
    end_date: date | None = None
    status: TrainingStatus = short(16, default=TrainingStatus.IN_TRAINING)
    # A 1- or 2-year duration holds only once its reduction went through the review chain.
    reduction_applied_at: datetime | None = when()
    updated_by: int | None = Field(default=None, foreign_key="account.id")
    created_at: datetime | None = when()
    updated_at: datetime | None = when()

    __table_args__ = (
        UniqueConstraint("application_id"),
        Index(None, "start_date"),
        # the years-missing sweep: trainings in training, oldest first
        Index(None, "status", "created_at"),
    )


class Reduction(SQLModel, table=True):
    """培训年限减免: trainee → base → city → province → applied; any level may send it back."""

    id: int | None = Field(default=None, primary_key=True)
    training_id: int = Field(foreign_key="training.id", index=True)
    base_id: int = Field(foreign_key="base.id")
    city_id: int = Field(foreign_key="city.id")
    years: int  # the reduced duration the trainee asks for: 1 or 2
    status: ReductionStatus = short(16, default=ReductionStatus.DRAFT)
    sent_back_by: str | None = short(16, default=None, nullable=True)  # the level that did
    sent_back_reason: str | None = Field(default=None, max_length=500)
    created_at: datetime | None = when()
    updated_at: datetime | None = when()

    __table_args__ = (Index(None, "status", "base_id"), Index(None, "status", "city_id"))


class Document(SQLModel, table=True):
    """A PDF kept on disk (never in the database), known here by its hash and size."""

    id: int | None = Field(default=None, primary_key=True)
    reduction_id: int | None = Field(default=None, foreign_key="reduction.id", index=True)
    kind: DocumentKind = short(24)
    filename: str = Field(max_length=255)
    sha256: str = Field(sa_type=String(64))
    size: int
    path: str = Field(max_length=255)  # relative to the upload directory
    uploaded_by: int = Field(foreign_key="account.id")
    uploaded_at: datetime | None = when()
