"""Free text as the workflow takes it: one normalisation for every typed answer.

NFKC first (full-width digits and letters read as ASCII, compatibility forms folded), keeping
the full-width punctuation of Chinese prose as typed (，：（）！？ stay, NFKC would make them
ASCII); then runs of white space collapse to one space (a multi-line field keeps its line
breaks), then characters that change how text is shown without being part of it are refused with the
character named: control characters (NUL, BEL, ESC…) and the bidi embeddings, overrides and
isolates that make "gpj.exe" read as "exe.jpg". Last, the length is checked against the
column the text goes to, before anything is stored.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from workflow.errors import DomainError

# U+202A-U+202E embeddings and overrides, U+2066-U+2069 isolates, U+061C Arabic letter mark,
# U+200E/U+200F direction marks, U+FFF9-U+FFFB interlinear annotations, U+2028/U+2029 line and
# paragraph separators, U+FEFF the byte-order mark.
_INVISIBLE = frozenset(
    [
        *range(0x202A, 0x202F),
        *range(0x2066, 0x206A),
        0x061C,
        0x200E,
        0x200F,
        *range(0xFFF9, 0xFFFC),
        0x2028,
        0x2029,
        0xFEFF,
    ]
)
_SPACES = re.compile(r"[^\S\n]+")
_LINE_BREAKS = re.compile(r"\s*\n\s*")


# Full-width punctuation and symbols (U+FF01-U+FF0F, U+FF1A-U+FF20, U+FF3B-U+FF40,
# U+FF5B-U+FF65): part of how Chinese is written, kept in prose.
_CJK_PUNCTUATION = re.compile("([\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65])")


def nfkc(value: Any) -> str:
    """The compatibility-normalised text: `１３８` reads `138`, `Ｘ` reads `X`."""
    return unicodedata.normalize("NFKC", str(value))


def nfkc_prose(value: Any) -> str:
    """NFKC except for Chinese full-width punctuation: `Ｌｉ，２号` reads `Li，2号`."""
    parts = _CJK_PUNCTUATION.split(str(value))
    return "".join(p if i % 2 else unicodedata.normalize("NFKC", p) for i, p in enumerate(parts))


def refused_character(text: str, *, multiline: bool = False) -> str | None:
    """The first character free text may not carry, as `U+202E`, or None."""
    for ch in text:
        code = ord(ch)
        if ch == "\n" and multiline:
            continue
        if ch in "\t\r\n":
            continue  # white space: collapsed, not refused
        if code in _INVISIBLE or unicodedata.category(ch) in ("Cc", "Cs"):
            return f"U+{code:04X}"
    return None


def clean(
    value: Any,
    *,
    limit: int,
    field: str = "text",
    required: bool = True,
    multiline: bool = False,
) -> str | None:
    """`value` normalised, or a refusal naming the field and the rule: `text.control` (with
    the character), `field.required`, `field.too_long` (with the limit)."""
    text = nfkc_prose("" if value is None else value).replace("\r\n", "\n").replace("\r", "\n")
    bad = refused_character(text, multiline=multiline)
    if bad is not None:
        raise DomainError("text.control", field=field, char=bad)
    if multiline:
        text = _LINE_BREAKS.sub("\n", _SPACES.sub(" ", text)).strip()
    else:
        text = " ".join(text.split())
    if not text:
        if required:
            raise DomainError("field.required", field=field)
        return None
    if len(text) > limit:
        raise DomainError("field.too_long", field=field, max=limit)
    return text


def column_limit(model: type, name: str) -> int:
    """The length of a string column, as the model declares it."""
    length = getattr(model.__table__.c[name].type, "length", None)  # type: ignore[attr-defined]
    if not isinstance(length, int):
        raise TypeError(f"{model.__name__}.{name} has no length")
    return length


def digits(value: Any) -> str:
    """A typed number, date or code with full-width digits and separators read as ASCII and
    the surrounding white space dropped."""
    return nfkc(value).strip()


ID_MAX = 2**31 - 1  # the id columns are INTEGER on PostgreSQL


def record_id(value: Any) -> int | None:
    """A typed record number (`12`, `#12`, `１２`) as an int, or None when it is not a plain
    number that an id column can hold (a 20-digit number is no id, it is not looked up)."""
    text = digits(value).lstrip("#")
    if not text.isascii() or not text.isdigit() or len(text) > 10:
        return None
    number = int(text)
    return number if 0 < number <= ID_MAX else None
