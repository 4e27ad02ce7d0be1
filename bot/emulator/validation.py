"""Checks one Bot API request against api.json and Telegram's documented limits.

Usable without the server::

    validator = RequestValidator()
    problems = validator.validate("sendMessage", {"chat_id": "1", "text": "<b>x"})

Top-level values may be strings as aiogram sends them in a form (numbers and booleans as
text, objects and arrays as JSON) or already-decoded JSON values; nested values must have
their JSON types.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.emulator.limits import check_limits
from bot.emulator.models import Problem, UploadedFile
from bot.emulator.spec import DEFAULT_SPEC_PATH, ApiSpec, FieldSpec, TypeSpec

ATTACH_PREFIX = "attach://"
_INTEGER_RE = re.compile(r"-?[0-9]+")
_TRUE_STRINGS = frozenset({"true", "1"})
_FALSE_STRINGS = frozenset({"false", "0"})
_ARRAY_PREFIX = "Array of "


@dataclass
class ValidatedRequest:
    method: str | None  # canonical spelling from api.json; None when unknown
    params: dict[str, Any] = field(default_factory=dict)  # values converted to JSON types
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


class RequestValidator:
    def __init__(self, spec: ApiSpec | None = None, spec_path: Path = DEFAULT_SPEC_PATH) -> None:
        self.spec = spec if spec is not None else ApiSpec.load(spec_path)

    def validate(
        self,
        method: str,
        params: Mapping[str, Any],
        files: Mapping[str, UploadedFile] | None = None,
    ) -> list[Problem]:
        return self.check(method, params, files).problems

    def check(
        self,
        method: str,
        params: Mapping[str, Any],
        files: Mapping[str, UploadedFile] | None = None,
    ) -> ValidatedRequest:
        method_spec = self.spec.find_method(method)
        if method_spec is None:
            return ValidatedRequest(None, dict(params), [Problem(f"unknown method {method!r}")])
        request = ValidatedRequest(method_spec.name)
        converter = _Converter(self.spec, files or {})
        for name, raw in params.items():
            field_spec = method_spec.fields.get(name)
            if field_spec is None:
                request.params[name] = raw
                request.problems.append(
                    Problem(f"unknown parameter {name!r} for method {method_spec.name}")
                )
                continue
            value, problems = converter.top_level(raw, field_spec)
            request.params[name] = value
            request.problems.extend(problems)
        for name, upload in (files or {}).items():
            if name in request.params or name in converter.attached:
                continue
            field_spec = method_spec.fields.get(name)
            if field_spec is None:
                request.problems.append(
                    Problem(f"unknown file part {name!r} for method {method_spec.name}")
                )
            elif "InputFile" not in field_spec.types:
                request.problems.append(_mismatch(upload, name, field_spec.types))
            else:
                request.params[name] = upload
        for name, field_spec in method_spec.fields.items():
            if field_spec.required and name not in request.params:
                request.problems.append(Problem(f"parameter {name!r} is required"))
        if request.ok:
            request.problems.extend(check_limits(method_spec.name, request.params))
        return request


def describe_types(types: tuple[str, ...] | list[str]) -> str:
    return " or ".join(types)


class _Converter:
    """Converts one request's values to JSON types, collecting problems on the way."""

    def __init__(self, spec: ApiSpec, files: Mapping[str, UploadedFile]) -> None:
        self.spec = spec
        self.files = files
        self.attached: set[str] = set()

    def top_level(self, raw: Any, field_spec: FieldSpec) -> tuple[Any, list[Problem]]:
        if (
            isinstance(raw, str)
            and raw.startswith(ATTACH_PREFIX)
            and "InputFile" in field_spec.types
        ):
            return self._attachment(raw, field_spec.name)
        return self._union(raw, field_spec.types, field_spec.name, from_form=True)

    def _union(
        self, value: Any, types: tuple[str, ...], path: str, *, from_form: bool
    ) -> tuple[Any, list[Problem]]:
        results: list[tuple[Any, list[Problem]]] = []
        for type_name in types:
            converted, problems = self._one(value, type_name, path, from_form=from_form)
            if not problems:
                return converted, []
            results.append((converted, problems))
        if len(results) == 1:
            return results[0]
        # An alternative whose problems all lie deeper than `path` matched the value's
        # shape, so its problems are the useful ones to report.
        deep = [r for r in results if all(p.path != path for p in r[1])]
        if deep:
            return min(deep, key=lambda r: len(r[1]))
        return value, [Problem(f"expected {describe_types(types)}, got {_describe(value)}", path)]

    def _one(
        self, value: Any, type_name: str, path: str, *, from_form: bool
    ) -> tuple[Any, list[Problem]]:
        if from_form and isinstance(value, str):
            return self._from_form_string(value, type_name, path)
        if type_name.startswith(_ARRAY_PREFIX):
            return self._array(value, type_name[len(_ARRAY_PREFIX) :], path)
        if type_name in {"Integer", "Float", "Boolean", "String"}:
            fits = _native_fits(value, type_name)
            return value, ([] if fits else [_mismatch(value, path, (type_name,))])
        if type_name == "InputFile":
            if isinstance(value, UploadedFile):
                return value, []
            return value, [_mismatch(value, path, (type_name,))]
        return self._object(value, type_name, path)

    def _from_form_string(self, value: str, type_name: str, path: str) -> tuple[Any, list[Problem]]:
        if type_name == "String":
            return value, []
        if type_name == "Integer":
            if _INTEGER_RE.fullmatch(value.strip()):
                return int(value), []
            return value, [_mismatch(value, path, (type_name,))]
        if type_name == "Float":
            try:
                return float(value), []
            except ValueError:
                return value, [_mismatch(value, path, (type_name,))]
        if type_name == "Boolean":
            lowered = value.strip().lower()
            if lowered in _TRUE_STRINGS | _FALSE_STRINGS:
                return lowered in _TRUE_STRINGS, []
            return value, [_mismatch(value, path, (type_name,))]
        if type_name == "InputFile":
            return self._attachment(value, path)
        try:
            decoded = json.loads(value)
        except ValueError:
            return value, [Problem(f"can't parse JSON for {type_name}: {value[:60]!r}", path)]
        return self._one(decoded, type_name, path, from_form=False)

    def _attachment(self, value: str, path: str) -> tuple[Any, list[Problem]]:
        if not value.startswith(ATTACH_PREFIX):
            return value, [_mismatch(value, path, ("InputFile",))]
        name = value[len(ATTACH_PREFIX) :]
        upload = self.files.get(name)
        if upload is None:
            return value, [Problem(f"file part {name!r} referenced by {value!r} is missing", path)]
        self.attached.add(name)
        return upload, []

    def _array(self, value: Any, item_type: str, path: str) -> tuple[Any, list[Problem]]:
        if not isinstance(value, list):
            return value, [_mismatch(value, path, (_ARRAY_PREFIX + item_type,))]
        items: list[Any] = []
        problems: list[Problem] = []
        for index, item in enumerate(value):
            converted, item_problems = self._union(
                item, (item_type,), f"{path}[{index}]", from_form=False
            )
            items.append(converted)
            problems.extend(item_problems)
        return items, problems

    def _object(self, value: Any, type_name: str, path: str) -> tuple[Any, list[Problem]]:
        type_spec = self.spec.types.get(type_name)
        if type_spec is None:
            return value, [Problem(f"type {type_name} is not in api.json", path)]
        if type_spec.subtypes:
            return self._subtype_union(value, type_spec, path)
        if not isinstance(value, dict):
            return value, [_mismatch(value, path, (type_name,))]
        if type_spec.is_opaque:
            return value, []
        return self._fields(value, type_spec, path)

    def _subtype_union(
        self, value: Any, type_spec: TypeSpec, path: str
    ) -> tuple[Any, list[Problem]]:
        candidates = list(type_spec.subtypes)
        if isinstance(value, dict):
            matching = [n for n in candidates if _discriminator_allows(self.spec, n, value)]
            if not matching:
                return value, [Problem(f"unknown kind of {type_spec.name}: {value!r}", path)]
            candidates = matching
        return self._union(value, tuple(candidates), path, from_form=False)

    def _fields(
        self, value: dict[str, Any], type_spec: TypeSpec, path: str
    ) -> tuple[Any, list[Problem]]:
        converted: dict[str, Any] = {}
        problems: list[Problem] = []
        for key, item in value.items():
            field_spec = type_spec.fields.get(key)
            item_path = f"{path}.{key}"
            if field_spec is None:
                problems.append(Problem(f"unknown field {key!r} in {type_spec.name}", item_path))
                continue
            converted[key], item_problems = self._union(
                item, field_spec.types, item_path, from_form=False
            )
            problems.extend(item_problems)
        for name, field_spec in type_spec.fields.items():
            if field_spec.required and name not in value:
                problems.append(
                    Problem(f"field {name!r} of {type_spec.name} is required", f"{path}.{name}")
                )
        return converted, problems


def _discriminator_allows(spec: ApiSpec, subtype: str, value: dict[str, Any]) -> bool:
    subtype_spec = spec.types.get(subtype)
    if subtype_spec is None or subtype_spec.discriminator is None:
        return True
    key, expected = subtype_spec.discriminator
    return key not in value or value[key] == expected


def _native_fits(value: Any, type_name: str) -> bool:
    if isinstance(value, bool):
        return type_name == "Boolean"
    if type_name == "Integer":
        return isinstance(value, int)
    if type_name == "Float":
        return isinstance(value, int | float)
    if type_name == "String":
        return isinstance(value, str)
    return False


def _describe(value: Any) -> str:
    if isinstance(value, UploadedFile):
        return f"an uploaded file {value.filename!r}"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _mismatch(value: Any, path: str, expected: tuple[str, ...]) -> Problem:
    return Problem(f"expected {describe_types(expected)}, got {_describe(value)}", path)
