"""The trainee's profile: the guide's four modules (basic, contact, education, work)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import LargeBinary, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.models._base import short, when
from workflow.enums import EducationLevel, Gender, IdType


class TraineeProfile(SQLModel, table=True):
    """One per trainee account. ID and phone numbers are stored encrypted, found by blind index.

    `id_tail` keeps the last four characters in the clear: it is what masked displays show
    anyway, and it lets base staff filter their queue by the end of an ID number.
    """

    __tablename__ = "trainee_profile"

    account_id: int = Field(foreign_key="account.id", primary_key=True)
    # registration (basic module, fixed after registration)
    name: str = Field(max_length=64)
    id_type: IdType = short(24)
    id_number_enc: bytes = Field(sa_type=LargeBinary)
    id_number_index: str = Field(sa_type=String(64))
    id_tail: str = Field(sa_type=String(4), index=True)
    # basic module
    gender: Gender | None = short(8, default=None, nullable=True)
    birth_date: date | None = None
    ethnicity: str | None = Field(default=None, max_length=32)  # 民族
    political_status: str | None = Field(default=None, max_length=32)  # 政治面貌
    # contact module
    phone_enc: bytes | None = Field(default=None, sa_type=LargeBinary)
    phone_index: str | None = Field(default=None, sa_type=String(64))
    phone_verified_at: datetime | None = when()
    email: str | None = Field(default=None, max_length=254)
    address: str | None = Field(default=None, max_length=200)
    emergency_name: str | None = Field(default=None, max_length=64)
    emergency_phone_enc: bytes | None = Field(default=None, sa_type=LargeBinary)
    # work module: 是否有工作单位 (None until answered)
    has_work_unit: bool | None = None
    updated_at: datetime | None = when()

    __table_args__ = (UniqueConstraint("id_number_index"), UniqueConstraint("phone_index"))


class EducationRecord(SQLModel, table=True):
    __tablename__ = "education_record"

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    school: str = Field(max_length=128)  # 院校
    major: str = Field(max_length=64)
    level: EducationLevel = short(16)
    start_date: date
    end_date: date
    is_first: bool = Field(default=False)  # 第一学历
    is_highest: bool = Field(default=False)  # 最高学历
    is_bachelor: bool = Field(default=False)  # 本科学历


class WorkRecord(SQLModel, table=True):
    __tablename__ = "work_record"

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    unit_name: str = Field(max_length=128)
    position: str | None = Field(default=None, max_length=64)
    start_date: date
    end_date: date | None = None
    is_current: bool = Field(default=False)  # 是否为当前所在单位
