"""Finding a name in a long list of choices in chat: the project's one matcher and pinyin order
(`workflow.reference_lists`: characters or codes as typed, pinyin from the start of a syllable,
the initials a name begins with), applied to lists of any rows."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from typing import TypeVar

from workflow import reference_lists

T = TypeVar("T")


@lru_cache(maxsize=4096)
def pinyin_key(name: str) -> tuple[str, ...]:
    """The sort key of a name: its toneless pinyin, then the name itself for ties."""
    return (*reference_lists.pinyin_key(name), "\0", name)


def matches(query: str, *texts: str) -> bool:
    return reference_lists.matches(query, *texts)


def search(items: Iterable[T], query: str, texts: Callable[[T], Sequence[str]]) -> list[T]:
    """The items whose texts match the query, in their order."""
    return [item for item in items if matches(query, *texts(item))]


def by_pinyin(items: Iterable[T], name: Callable[[T], str]) -> list[T]:
    return sorted(items, key=lambda item: pinyin_key(name(item)))
