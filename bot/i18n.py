"""Texts from the locale files (`bot/locales/<locale>/*.toml`), zh-CN first, English second.

Keys are dotted paths (`[error.reg]` + `id_registered` → `error.reg.id_registered`). Texts are
Telegram HTML: string parameters are escaped here, so a trainee's name cannot break a message.
Datetimes are shown in the configured time zone (Asia/Shanghai).
"""

from __future__ import annotations

import html
import string
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

LOCALES_DIR = Path(__file__).parent / "locales"
LOCALES = ("zh-CN", "en")
DEFAULT_LOCALE = "zh-CN"
SHANGHAI = ZoneInfo("Asia/Shanghai")


class Raw(str):
    """A parameter that is already HTML and must not be escaped."""


def _flatten(prefix: str, table: Mapping[str, Any], out: dict[str, str], origin: str) -> None:
    for key, value in table.items():
        full = f"{prefix}.{key}" if prefix else key
        if isinstance(value, Mapping):
            _flatten(full, value, out, origin)
        elif isinstance(value, str):
            if full in out:
                raise ValueError(f"duplicate locale key {full!r} in {origin}")
            out[full] = value
        else:
            raise ValueError(f"locale value of {full!r} in {origin} is not text")


@cache
def catalog(locale: str) -> dict[str, str]:
    out: dict[str, str] = {}
    folder = LOCALES_DIR / locale
    for path in sorted(folder.glob("*.toml")):
        with path.open("rb") as fh:
            _flatten("", tomllib.load(fh), out, str(path))
    return out


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def normalize_locale(code: str | None) -> str | None:
    """Map a Telegram language_code or a user's choice onto a supported locale."""
    if not code:
        return None
    code = code.lower()
    if code.startswith("zh"):
        return "zh-CN"
    if code.startswith("en"):
        return "en"
    return None


class _Params(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


@dataclass(frozen=True)
class Translator:
    locale: str
    tz: ZoneInfo = SHANGHAI

    def __call__(self, key: str, /, **params: Any) -> str:
        text = catalog(self.locale).get(key)
        if text is None:
            text = catalog(DEFAULT_LOCALE).get(key)
        if text is None:
            raise KeyError(f"no text for {key!r}")
        return text.format_map(_Params({k: self._param(v) for k, v in params.items()}))

    def has(self, key: str) -> bool:
        return key in catalog(self.locale) or key in catalog(DEFAULT_LOCALE)

    def _param(self, value: Any) -> str:
        if isinstance(value, Raw):
            return str(value)
        if isinstance(value, datetime):
            return self.datetime(value)
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, bool):
            return self("common.yes") if value else self("common.no")
        return html.escape(str(value), quote=False)

    def datetime(self, value: datetime) -> str:
        """Local wall-clock time, e.g. 2026-07-01 18:00 (Asia/Shanghai)."""
        return value.astimezone(self.tz).strftime("%Y-%m-%d %H:%M")

    def label(self, kind: str, value: Any) -> str:
        """The localized name of an enum value, e.g. label("ptype", "social")."""
        key = f"label.{kind}.{value}"
        return self(key) if self.has(key) else str(value)

    def error(self, code: str, params: Mapping[str, Any]) -> str:
        key = f"error.{code}"
        if not self.has(key):
            key = "error.generic"
        shown = {name: self._error_param(name, value) for name, value in params.items()}
        return self(key, **shown)

    def _error_param(self, name: str, value: Any) -> Any:
        if value is None:
            return "—"
        if name == "missing":
            return self(f"problem.{value}") if self.has(f"problem.{value}") else value
        kind = _PARAM_LABELS.get(name)
        return self.label(kind, value) if kind else value


# Error parameters that carry an enum value, and the label family that names it.
_PARAM_LABELS = {
    "id_type": "id_type",
    "personnel_type": "ptype",
    "status": "status",
    "step": "step",
    "kind": "doc_kind",
    "what": "entity",
    "program": "program",
    "field": "field",
}
