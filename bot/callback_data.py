"""The field types of every button's callback data, bounded where the data is parsed.

Telegram hands back whatever a client puts in `callback_data`: an old keyboard, a forged press
or bytes of garbage. Each `CallbackData` class (one prefix per feature, in handlers/) declares
its fields with these types, so `unpack` refuses what is out of range before any handler or
query sees it: a record id is a positive integer that fits the id columns, a page is bounded,
an action or a value is a short word, an enum is one of its values. A press whose data does not
parse matches no handler and meets the fallback's "this button has expired" (handlers/common.py);
nothing is read or changed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import Annotated, Any

from aiogram.filters.callback_data import CallbackData
from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints

from workflow.text import ID_MAX

INT32_MAX = ID_MAX
PAGE_MAX = 100_000
WORD_MAX = 32


def _fits_int_column(value: str) -> str:
    """A numeric word (a batch or specialty id carried as a value) must fit the id columns."""
    if value.isdigit() and (not value.isascii() or int(value) > INT32_MAX):
        raise ValueError("number out of range")
    return value


def _plain_integer(value: Any) -> Any:
    """Only plain ASCII digits (and a minus) make a number: no spaces, signs or other scripts."""
    if isinstance(value, str) and not re.fullmatch(r"-?[0-9]{1,12}", value):
        raise ValueError("not a plain integer")
    return value


# A record id; 0 stands for "none" in the optional ones.
Id = Annotated[int, BeforeValidator(_plain_integer), Field(ge=0, le=INT32_MAX)]
# A page of a list; -1 asks for the page the user was on.
Page = Annotated[int, BeforeValidator(_plain_integer), Field(ge=-1, le=PAGE_MAX)]
# An action or a value: ASCII letters, digits and _ . - only, short.
Word = Annotated[
    str,
    StringConstraints(max_length=WORD_MAX, pattern=r"^[A-Za-z0-9_.\-]*$"),
    AfterValidator(_fits_int_column),
]


@dataclass(frozen=True)
class Choices:
    """The values a `one_of` field takes (read by the tests that forge presses)."""

    values: tuple[str, ...]


def one_of(*values: str | Enum) -> Any:
    """A word that is one of `values` (an enum's values, or the actions a class knows)."""
    allowed = tuple(dict.fromkeys(v.value if isinstance(v, Enum) else v for v in values))

    def check(value: str) -> str:
        if value not in allowed:
            raise ValueError("unknown value")
        return value

    return Annotated[
        str, StringConstraints(max_length=WORD_MAX), AfterValidator(check), Choices(allowed)
    ]


def callback_data_classes() -> list[type[CallbackData]]:
    """Every CallbackData class of the bot's handlers (for the tests that attack them)."""
    import importlib
    import pkgutil

    import handlers

    for module in pkgutil.walk_packages(handlers.__path__, "handlers."):
        importlib.import_module(module.name)
    found: list[type[CallbackData]] = []
    pending = list(CallbackData.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__module__.startswith("handlers"):
            found.append(cls)
    return sorted(found, key=lambda c: c.__prefix__)
