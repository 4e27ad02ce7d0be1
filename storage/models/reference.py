"""Reference data: cities, bases, specialties, batches and plans."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.models._base import required_when, short, when
from workflow.enums import BaseKind, PersonnelType, PlanStatus, Program, Supervisor


class City(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = short(16)
    name: str = Field(max_length=64)

    __table_args__ = (UniqueConstraint("code"),)


class Base(SQLModel, table=True):
    """A training base: a national base (国家住培基地) or one of its local bases (sites)."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = short(32)
    name: str = Field(max_length=128)
    kind: BaseKind = short(16)
    parent_id: int | None = Field(default=None, foreign_key="base.id", index=True)
    city_id: int = Field(foreign_key="city.id", index=True)
    # Who confirms this base's results: its city commission or the province directly.
    supervisor: Supervisor = short(16, default=Supervisor.CITY)

    __table_args__ = (UniqueConstraint("code"),)


class Specialty(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = short(16)
    name: str = Field(max_length=64)
    name_en: str = Field(default="", max_length=128)
    program: Program = short(16, default=Program.RESIDENCY)

    __table_args__ = (UniqueConstraint("program", "code"),)


class Batch(SQLModel, table=True):
    """招收批次: an application period of one program and cohort year."""

    id: int | None = Field(default=None, primary_key=True)
    program: Program = short(16)
    name: str = Field(max_length=128)
    cohort_year: int = Field(index=True)
    apply_start: datetime = required_when()
    apply_end: datetime = required_when()
    # After a result is sent, the base may cancel it for this long; then it is final.
    lock_hours: int = Field(default=12)
    # 学员确认周期: a result can be accepted only inside this window (and after the lock).
    confirm_start: datetime = required_when()
    confirm_end: datetime = required_when()
    # How long a trainee has to answer an allocation offer (学员调配).
    offer_hours: int = Field(default=48)
    notes: str = Field(default="", max_length=2000)  # 招收说明 / 注意事项
    created_at: datetime | None = when()

    __table_args__ = (UniqueConstraint("program", "name"), Index(None, "apply_end"))


class BatchPersonnelType(SQLModel, table=True):
    __tablename__ = "batch_personnel_type"

    """The personnel types a batch applies to (适用于)."""

    batch_id: int = Field(foreign_key="batch.id", primary_key=True)
    personnel_type: PersonnelType = Field(sa_type=String(16), primary_key=True)


class Plan(SQLModel, table=True):
    """招收计划: the planned number of a batch × base × specialty."""

    id: int | None = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="batch.id")
    base_id: int = Field(foreign_key="base.id", index=True)
    specialty_id: int = Field(foreign_key="specialty.id")
    declared: int | None = None  # what the base asked for
    planned: int = Field(default=0)  # what the province approved; what trainees see
    status: PlanStatus = short(16, default=PlanStatus.APPROVED)
    reason: str | None = Field(default=None, max_length=500)
    declared_by: int | None = Field(default=None, foreign_key="account.id")
    decided_by: int | None = Field(default=None, foreign_key="account.id")
    declared_at: datetime | None = when()
    decided_at: datetime | None = when()

    __table_args__ = (UniqueConstraint("batch_id", "base_id", "specialty_id"),)
