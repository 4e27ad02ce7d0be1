"""Pure rules of the four profile modules: what is missing, and what a personnel type needs.

Each rule returns problem codes (locale keys under `problem.`), so the chat can say exactly what
is missing and lead there in one press.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from workflow.enums import NEEDS_CURRENT_UNIT, NO_WORK_UNIT, EducationLevel, PersonnelType
from workflow.errors import DomainError

MODULES = ("basic", "contact", "education", "work")

# The order a highest degree must not fall below.
_RANK = {
    EducationLevel.JUNIOR_COLLEGE: 1,
    EducationLevel.BACHELOR: 2,
    EducationLevel.MASTER: 3,
    EducationLevel.DOCTOR: 4,
}


class EducationLike(Protocol):
    level: Any
    is_first: bool
    is_highest: bool
    is_bachelor: bool


class WorkLike(Protocol):
    is_current: bool


@dataclass(frozen=True)
class Problem:
    module: str
    code: str
    params: dict[str, Any] = field(default_factory=dict)


def education_problems(records: Sequence[EducationLike]) -> list[Problem]:
    """第一学历 (大专/本科), 本科学历 when the first is 大专, 最高学历; flags may share a record."""
    out: list[Problem] = []

    def add(code: str, **params: Any) -> None:
        out.append(Problem("education", code, params))

    firsts = [r for r in records if r.is_first]
    highests = [r for r in records if r.is_highest]
    bachelors = [r for r in records if r.is_bachelor]
    if not records:
        add("edu.none")
        return out
    if not firsts:
        add("edu.no_first")
    elif len(firsts) > 1:
        add("edu.many_first")
    elif EducationLevel(firsts[0].level) not in {
        EducationLevel.JUNIOR_COLLEGE,
        EducationLevel.BACHELOR,
    }:
        add("edu.first_level")
    elif EducationLevel(firsts[0].level) is EducationLevel.JUNIOR_COLLEGE and not any(
        EducationLevel(r.level) is EducationLevel.BACHELOR for r in bachelors
    ):
        add("edu.need_bachelor")
    if any(EducationLevel(r.level) is not EducationLevel.BACHELOR for r in bachelors):
        add("edu.bachelor_level")
    if len(bachelors) > 1:
        add("edu.many_bachelor")
    if not highests:
        add("edu.no_highest")
    elif len(highests) > 1:
        add("edu.many_highest")
    elif any(
        _RANK[EducationLevel(r.level)] > _RANK[EducationLevel(highests[0].level)] for r in records
    ):
        add("edu.highest_not_highest")
    return out


def work_problems(has_work_unit: bool | None, records: Sequence[WorkLike]) -> list[Problem]:
    """是否有工作单位 answered; with 有, at least one record and at most one current unit."""
    out: list[Problem] = []
    current = sum(1 for r in records if r.is_current)
    if has_work_unit is None:
        out.append(Problem("work", "work.unanswered"))
    elif has_work_unit:
        if not records:
            out.append(Problem("work", "work.no_records"))
        elif current == 0:
            out.append(Problem("work", "work.no_current"))
    elif current:
        out.append(Problem("work", "work.current_without_unit"))
    if current > 1:
        out.append(Problem("work", "work.many_current"))
    return out


def check_personnel_type(
    personnel_type: PersonnelType | str, has_work_unit: bool | None, records: Sequence[WorkLike]
) -> None:
    """Own-unit and entrusted trainees need exactly one current unit; social recruits and master's
    students answer 无 and list no current unit."""
    ptype = PersonnelType(personnel_type)
    current = sum(1 for r in records if r.is_current)
    if ptype in NEEDS_CURRENT_UNIT and (not has_work_unit or current != 1):
        raise DomainError("apply.needs_current_unit", personnel_type=ptype.value)
    if ptype in NO_WORK_UNIT and (has_work_unit or current):
        raise DomainError("apply.must_have_no_unit", personnel_type=ptype.value)


@dataclass(frozen=True)
class Completeness:
    problems: tuple[Problem, ...]

    def missing(self, module: str) -> list[Problem]:
        return [p for p in self.problems if p.module == module]

    def module_complete(self, module: str) -> bool:
        return not self.missing(module)

    @property
    def complete(self) -> bool:
        return not self.problems

    @property
    def done_count(self) -> int:
        return sum(1 for m in MODULES if self.module_complete(m))
