"""What every staff list shares: pages, the free-text filter, refusals of scope."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from storage.models import (
    TraineeProfile,
)
from workflow.actor import Actor
from workflow.enums import (
    ApplicationStatus,
    Role,
)
from workflow.errors import Forbidden

S = ApplicationStatus
EXPORT_MAX = 20_000  # rows of one Excel export


T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    rows: list[T]
    total: int
    page: int
    pages: int


def paginate(total: int, page: int, size: int) -> tuple[int, int]:
    pages = max(1, -(-total // size))
    return min(max(page, 0), pages - 1), pages


def text_clause(text: str | None) -> Any:
    text = (text or "").strip()
    if not text:
        return None
    if text.isdigit() or (text[:-1].isdigit() and text[-1:] in "xX"):
        # The last digits of an ID number: id_tail holds the last four characters.
        tail = text[-4:].upper()
        return TraineeProfile.id_tail.endswith(tail, autoescape=True)
    return TraineeProfile.name.contains(text, autoescape=True)


def order_key(columns: dict[str, Any], order: str | None) -> tuple[Any, bool]:
    """The column of a sort key such as "name" or "-submitted_at" (descending), or None for
    a key the list does not offer."""
    order = (order or "").strip()
    descending = order.startswith("-")
    return columns.get(order.lstrip("-")), descending


def forbid(actor: Actor) -> Forbidden:
    if actor.role is Role.CITY:
        return Forbidden("forbidden.other_city")
    return Forbidden("forbidden.other_base")
