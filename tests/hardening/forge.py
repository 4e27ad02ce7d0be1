"""Forged callback data for every CallbackData class of the bot, built from the classes
themselves (bot/callback_data.py collects them): out of range, tampered and garbage."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from aiogram.filters.callback_data import CallbackData

from bot.callback_data import INT32_MAX, Choices, callback_data_classes

SEP = ":"
OUT_OF_RANGE = ("99999999999999999999", str(INT32_MAX + 1), "-2", "-99999999999999999999")
NOT_A_NUMBER = ("1e3", "0x10", "١٢", "１２", "one", " 1", "+1", "1_000")


@dataclass(frozen=True)
class Forged:
    cls: type[CallbackData]
    how: str
    data: str


def _choices(field: Any) -> tuple[str, ...] | None:
    for item in field.metadata:
        if isinstance(item, Choices):
            return item.values
    return None


def _sample(field: Any) -> str:
    choices = _choices(field)
    if choices:
        return next((c for c in choices if c), choices[0])
    if field.annotation in (int, "int") or _is_int(field):
        return "1"
    if field.annotation in (bool, "bool"):
        return "1"
    return "x"


def _is_int(field: Any) -> bool:
    return field.annotation is int


def template(cls: type[CallbackData]) -> list[str]:
    return [_sample(f) for f in cls.model_fields.values()]


def _join(cls: type[CallbackData], parts: list[str]) -> str:
    return SEP.join([cls.__prefix__, *parts])


def forgeries(cls: type[CallbackData], rng: random.Random) -> Iterator[Forged]:
    """Each field of `cls` broken in turn, then the whole shape, then garbage."""
    fields = list(cls.model_fields.items())
    base = template(cls)
    for i, (name, field) in enumerate(fields):
        if _is_int(field):
            for value in (*OUT_OF_RANGE, rng.choice(NOT_A_NUMBER)):
                parts = list(base)
                parts[i] = value
                yield Forged(cls, f"{name}={value!r}", _join(cls, parts))
        elif field.annotation is bool:
            parts = list(base)
            parts[i] = "maybe"
            yield Forged(cls, f"{name}=maybe", _join(cls, parts))
        else:
            for value in ("zzz_unknown" if _choices(field) else None, "9" * 20, "a.b/../c", "<b>"):
                if value is None:
                    continue
                parts = list(base)
                parts[i] = value
                yield Forged(cls, f"{name}={value!r}", _join(cls, parts))
    yield Forged(cls, "one part too many", _join(cls, [*base, "1"]))
    if base:
        yield Forged(cls, "one part missing", _join(cls, base[:-1]))
    yield Forged(cls, "garbage after the prefix", cls.__prefix__ + SEP + _garbage(rng, 40))


def _garbage(rng: random.Random, size: int) -> str:
    pool = "0123456789abcdefXYZ:::-_./\\%'\"<>&;| \t汉字😀\u202e\x00"
    while True:
        text = "".join(rng.choice(pool) for _ in range(rng.randint(1, size)))
        if len(text.encode()) <= 64:  # Telegram's limit for callback_data
            return text


def every_forgery(seed: int = 11) -> list[Forged]:
    rng = random.Random(seed)
    out = [f for cls in callback_data_classes() for f in forgeries(cls, rng)]
    out += [Forged(CallbackData, "garbage", _garbage(rng, 64)) for _ in range(8)]
    return out


def _largest(field: Any) -> int:
    for item in field.metadata:
        if getattr(item, "le", None) is not None:
            return int(item.le)
    return INT32_MAX


def _actions(name: str) -> list[str]:
    """The words the handlers compare a field called `name` with, or build buttons with."""
    import re
    from pathlib import Path

    import handlers

    found: set[str] = set()
    patterns = (
        rf"\b{name}\s*==\s*\"([a-z_]+)\"",
        rf"\b{name}=\"([a-z_]+)\"",
        rf"\b{name} in \(([^)]*)\)",
    )
    for path in Path(handlers.__path__[0]).rglob("*.py"):
        source = path.read_text("utf-8")
        for pattern in patterns:
            for match in re.findall(pattern, source):
                found.update(re.findall(r"[a-z_]+", match))
    return sorted(found)


ODD_VALUES = (("abc", str(INT32_MAX)), ("", "0"), (str(INT32_MAX), "1"))


def oddities(values: tuple[tuple[str, str], ...] = ODD_VALUES) -> list[Forged]:
    """Data that parses but no button ever carries: for every action a class knows, the other
    words a non-number or empty and the ids at the bounds of their column."""
    out: list[Forged] = []
    for cls in callback_data_classes():
        fields = list(cls.model_fields.items())
        if not fields:
            continue
        first_name, first = fields[0]
        actions = list(_choices(first) or _actions(first_name) or [_sample(first)])
        for action in actions:
            for word, number in values:
                parts = [action]
                for _name, field in fields[1:]:
                    choices = _choices(field)
                    if choices and word == "" and "" in choices:
                        parts.append("")
                    elif choices or field.annotation is bool:
                        parts.append(_sample(field))
                    elif _is_int(field):
                        parts.append(str(min(int(number), _largest(field))))
                    else:
                        parts.append(word)
                out.append(Forged(cls, f"{action} with {word!r}/{number}", _join(cls, parts)))
    return out
