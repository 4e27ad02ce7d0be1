"""Helpers shared by the table modules."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, String
from sqlmodel import Field, SQLModel

from storage.types import UtcDateTime

SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def when(*, nullable: bool = True, index: bool = False) -> Any:
    """An aware UTC timestamp column."""
    return Field(default=None, sa_type=UtcDateTime, nullable=nullable, index=index)


def short(
    length: int = 32, *, default: Any = ..., nullable: bool = False, index: bool = False
) -> Any:
    """A short string column that holds an enum value or a code."""
    return Field(default=default, sa_type=String(length), nullable=nullable, index=index)


def telegram_id(*, nullable: bool = True, unique: bool = False, index: bool = False) -> Any:
    return Field(default=None, sa_type=BigInteger, nullable=nullable, unique=unique, index=index)


def required_when() -> Any:
    return Field(sa_type=UtcDateTime, nullable=False)


__all__ = ["SQLModel", "datetime", "required_when", "short", "telegram_id", "when"]
