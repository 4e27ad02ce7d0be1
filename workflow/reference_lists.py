"""The codes of the reference data as people look them up: cities, bases, specialties and
batches with their names, searchable, bases ordered by city and then by the pinyin of their
names (the order a Chinese office expects, not the characters' code points)."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime

from pypinyin import Style, lazy_pinyin
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.models import Base, Batch, City, Specialty
from workflow.enums import BaseKind, Program


def pinyin_key(name: str) -> tuple[str, ...]:
    """Sort key: the toneless pinyin of each character (other characters as they are)."""
    return tuple(lazy_pinyin(name, style=Style.NORMAL, errors="default"))


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold().replace(" ", "")


def matches(search: str | None, *texts: str | None) -> bool:
    """Whether `search` is part of a code or a name, or its pinyin from the start of a syllable
    ("shan" and "zhongshan" find 中山大学…), or the initials the name begins with ("zs" finds
    中山市, not 广州市)."""
    if not search:
        return True
    wanted = _fold(search)
    for text in texts:
        if not text:
            continue
        if wanted in _fold(text):
            return True
        syllables = lazy_pinyin(text, style=Style.NORMAL, errors="ignore")
        if "".join(s[:1] for s in syllables).startswith(wanted):
            return True
        if any("".join(syllables[i:]).startswith(wanted) for i in range(len(syllables))):
            return True
    return False


@dataclass(frozen=True)
class CodeRow:
    code: str
    name: str
    details: tuple[str, ...] = ()


@dataclass(frozen=True)
class BaseRow:
    code: str
    name: str
    kind: BaseKind
    city_code: str
    city_name: str
    national_code: str | None


@dataclass(frozen=True)
class BatchRow:
    program: Program
    name: str
    cohort_year: int
    apply_start: datetime
    apply_end: datetime
    confirm_start: datetime
    confirm_end: datetime


async def cities(session: AsyncSession, search: str | None = None) -> list[CodeRow]:
    rows = await session.scalars(select(City).order_by(City.code))
    return [CodeRow(c.code, c.name) for c in rows if matches(search, c.code, c.name)]


async def bases(session: AsyncSession, search: str | None = None) -> list[BaseRow]:
    """Every base (national and local), by city code, then national before local, then pinyin."""
    parent = aliased(Base)
    rows = await session.execute(
        select(Base, City.code, City.name, parent.code)
        .join(City, City.id == Base.city_id)
        .outerjoin(parent, parent.id == Base.parent_id)
    )
    out = [
        BaseRow(b.code, b.name, BaseKind(b.kind), city_code, city_name, national)
        for b, city_code, city_name, national in rows
        if matches(search, b.code, b.name, city_name)
    ]
    order = list(BaseKind)
    out.sort(key=lambda r: (r.city_code, order.index(r.kind), pinyin_key(r.name), r.code))
    return out


async def specialties(session: AsyncSession, search: str | None = None) -> list[CodeRow]:
    rows = await session.scalars(select(Specialty))
    order = list(Program)
    found = [s for s in rows if matches(search, s.code, s.name, s.name_en)]
    found.sort(key=lambda s: (order.index(Program(s.program)), s.code))
    return [CodeRow(s.code, s.name, (s.program,)) for s in found]


async def batches(session: AsyncSession, search: str | None = None) -> list[BatchRow]:
    rows = await session.scalars(select(Batch).order_by(Batch.apply_start.desc(), Batch.id))
    return [
        BatchRow(
            Program(b.program),
            b.name,
            b.cohort_year,
            b.apply_start,
            b.apply_end,
            b.confirm_start,
            b.confirm_end,
        )
        for b in rows
        if matches(search, b.name, str(b.cohort_year))
    ]
