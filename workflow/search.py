"""Finding a name in a long list of choices: an order by pinyin (what a Chinese reader expects of
a list, not the characters' code points) and matching typed text on the characters, the full
pinyin (hongshizi) or the initials (hsz)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from typing import TypeVar

from pypinyin import Style, lazy_pinyin

T = TypeVar("T")
_SPACE = re.compile(r"[\s·・,，、()（）\-]+")


@lru_cache(maxsize=4096)
def pinyin_key(name: str) -> tuple[str, ...]:
    """The sort key of a name: its syllables without tones, then the name for ties."""
    return (*lazy_pinyin(name, style=Style.TONE3, errors="default"), "\0", name)


@lru_cache(maxsize=4096)
def _forms(text: str) -> tuple[str, str, str]:
    """The text as typed characters, full pinyin and initials, lower case without spaces."""
    plain = _SPACE.sub("", text).lower()
    syllables = [s.lower() for s in lazy_pinyin(plain, errors="default")]
    return plain, "".join(syllables), "".join(s[:1] for s in syllables)


def normalize(query: str) -> str:
    return _SPACE.sub("", query or "").lower()


def matches(query: str, *texts: str) -> bool:
    """Whether any text contains the query: as characters, as full pinyin or as initials."""
    q = normalize(query)
    if not q:
        return True
    # Characters match characters only: by sound, 十 would find every 市.
    latin = q.isascii()
    for text in texts:
        plain, full, initials = _forms(text)
        if q in plain or (latin and (q in full or q in initials)):
            return True
    return False


def search(items: Iterable[T], query: str, texts: Callable[[T], Sequence[str]]) -> list[T]:
    """The items whose texts match the query, in their order."""
    return [item for item in items if matches(query, *texts(item))]


def by_pinyin(items: Iterable[T], name: Callable[[T], str]) -> list[T]:
    return sorted(items, key=lambda item: pinyin_key(name(item)))
