"""The Bot API description (api.json) loaded into small typed records."""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

# /work/main/bot/emulator/spec.py -> /work/shared/telegram-bot-api/api.json
# Bot API 10.1 as data (MIT, from the telegram-bot-api-spec project; LICENSE beside it), kept
# in the package so that a clean clone, CI and the sandbox validate against the same copy.
DEFAULT_SPEC_PATH = Path(__file__).resolve().parent / "telegram-bot-api" / "api.json"

PRIMITIVE_TYPES = frozenset({"Integer", "Float", "Boolean", "String", "InputFile"})

# Subtypes of a union type name their discriminator in prose, e.g.
# 'Scope type, must be chat' or 'Type of the reaction, always "emoji"'.
_DISCRIMINATOR_RE = re.compile(r'(?:must be|always) "?([a-z_]+)"?\s*$')


@dataclass(frozen=True)
class FieldSpec:
    name: str
    types: tuple[str, ...]
    required: bool


@dataclass(frozen=True)
class MethodSpec:
    name: str
    fields: dict[str, FieldSpec]


@dataclass(frozen=True)
class TypeSpec:
    name: str
    fields: dict[str, FieldSpec] = field(default_factory=dict)
    subtypes: tuple[str, ...] = ()
    # (field name, constant value) that tells this subtype apart from its siblings.
    discriminator: tuple[str, str] | None = None

    @property
    def is_opaque(self) -> bool:
        """A type documented with neither fields nor subtypes (e.g. CallbackGame)."""
        return not self.fields and not self.subtypes


@dataclass
class ApiSpec:
    version: str
    methods: dict[str, MethodSpec]
    types: dict[str, TypeSpec]
    _methods_by_lower: dict[str, MethodSpec] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._methods_by_lower = {name.lower(): spec for name, spec in self.methods.items()}

    def find_method(self, name: str) -> MethodSpec | None:
        """Method names are case-insensitive in the Bot API."""
        return self._methods_by_lower.get(name.lower())

    @classmethod
    def load(cls, path: Path = DEFAULT_SPEC_PATH) -> ApiSpec:
        """Parsed once per file and shared: treat the result as read-only."""
        return _load_cached(Path(path).resolve())

    @classmethod
    def parse(cls, raw: dict) -> ApiSpec:
        methods = {
            name: MethodSpec(name=name, fields=_parse_fields(body.get("fields", [])))
            for name, body in raw["methods"].items()
        }
        types = {name: _parse_type(name, body) for name, body in raw["types"].items()}
        return cls(version=raw.get("version", ""), methods=methods, types=types)


@functools.cache
def _load_cached(path: Path) -> ApiSpec:
    if not path.is_file():
        raise FileNotFoundError(
            f"Bot API description not found at {path}; the emulator expects "
            "shared/telegram-bot-api/api.json beside the project folder, or pass spec_path"
        )
    return ApiSpec.parse(json.loads(path.read_text(encoding="utf-8")))


def _parse_fields(raw_fields: list[dict]) -> dict[str, FieldSpec]:
    return {
        f["name"]: FieldSpec(name=f["name"], types=tuple(f["types"]), required=f["required"])
        for f in raw_fields
    }


def _parse_type(name: str, body: dict) -> TypeSpec:
    raw_fields = body.get("fields", [])
    return TypeSpec(
        name=name,
        fields=_parse_fields(raw_fields),
        subtypes=tuple(body.get("subtypes", ())),
        discriminator=_find_discriminator(raw_fields),
    )


def _find_discriminator(raw_fields: list[dict]) -> tuple[str, str] | None:
    for f in raw_fields:
        if f["required"] and f["types"] == ["String"]:
            match = _DISCRIMINATOR_RE.search(f.get("description", ""))
            if match:
                return f["name"], match.group(1)
    return None
