"""The columns of each kind of file, and how headers and values are matched to them."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reference.importer.errors import NAME_HINTS, Kind, RowError, fail
from reference.importer.reading import Table
from workflow.enums import PersonnelType, Program, Supervisor


@dataclass(frozen=True)
class Column:
    key: str
    zh: str
    aliases: tuple[str, ...] = ()
    required: bool = True

    def names(self) -> set[str]:
        return {header_key(n) for n in (self.key, self.zh, *self.aliases)}


# --- columns of each kind --------------------------------------------------------------------

COLUMNS: dict[Kind, tuple[Column, ...]] = {
    Kind.CITIES: (
        Column("code", "城市代码", ("city_code", "代码")),
        Column("name", "城市名称", ("city_name", "名称", "城市")),
    ),
    Kind.BASES: (
        Column("code", "基地代码", ("base_code", "代码")),
        Column("name", "基地名称", ("base_name", "名称")),
        Column("city", "城市代码", ("city_code", "城市", "所在城市", "所在地市")),
        Column(
            "national_base",
            "国家住培基地代码",
            ("national_base_code", "国家住培基地", "所属国家住培基地", "parent", "parent_code"),
            required=False,
        ),
        Column("supervisor", "上级主管卫健委", ("主管卫健委", "主管部门"), required=False),
    ),
    Kind.SPECIALTIES: (
        Column("code", "专业代码", ("specialty_code", "代码")),
        Column("name", "专业名称", ("specialty_name", "名称", "专业")),
        Column("name_en", "英文名称", ("english_name", "name (en)"), required=False),
        Column("program", "业务入口", ("培训类别",), required=False),
    ),
    Kind.BATCHES: (
        Column("program", "业务入口", ("培训类别",)),
        Column("name", "批次名称", ("batch", "batch_name", "招收批次", "名称")),
        Column("cohort_year", "届别", ("cohort", "year", "年度")),
        Column("apply_start", "报名开始时间", ("报名开始",)),
        Column("apply_end", "报名结束时间", ("报名截止时间", "报名结束", "报名截止")),
        Column("personnel_types", "适用于", ("applies_to", "适用人员类型", "人员类型")),
        Column("lock_hours", "锁定时长", ("锁定期", "lock"), required=False),
        Column("confirm_start", "学员确认开始时间", ("确认开始时间", "确认开始")),
        Column("confirm_end", "学员确认结束时间", ("确认结束时间", "确认结束", "确认截止时间")),
        Column("offer_hours", "调配答复时长", ("调配时限",), required=False),
        Column("notes", "招收说明", ("注意事项", "说明", "备注"), required=False),
    ),
    Kind.PLANS: (
        Column("batch", "批次名称", ("batch_name", "招收批次", "批次")),
        Column("program", "业务入口", ("培训类别",), required=False),
        Column("base", "基地代码", ("base_code", "国家住培基地代码", "基地")),
        Column("specialty", "专业代码", ("specialty_code", "专业")),
        Column("planned", "招收计划数", ("计划数", "plan", "planned_number")),
    ),
}

PERIOD_ZH = {
    "apply_start": "报名开始时间",
    "apply_end": "报名结束时间",
    "confirm_start": "学员确认开始时间",
    "confirm_end": "学员确认结束时间",
}


def header_key(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).strip()
    text = re.sub(r"\([^()]*\)$", "", text)  # a trailing hint: 锁定时长（小时）
    return re.sub(r"[\s_\-*]", "", text).lower()


def value_key(text: str) -> str:
    return re.sub(r"[\s_\-]", "", unicodedata.normalize("NFKC", text)).lower()


_LABEL_ZH: dict[Any, str] = {}


def choices(pairs: dict[Any, tuple[str, ...]]) -> dict[str, Any]:
    """Accepted spellings → value; each tuple is (the value, its Chinese name, other names)."""
    _LABEL_ZH.update((value, names[1]) for value, names in pairs.items())
    return {value_key(name): value for value, names in pairs.items() for name in names}


def choice_names(options: dict[str, Any]) -> list[tuple[Any, str]]:
    """Each value an option table accepts, with its Chinese name."""
    return [(v, _LABEL_ZH[v]) for v in dict.fromkeys(options.values())]


def choice_params(options: dict[str, Any]) -> dict[str, str]:
    values = list(dict.fromkeys(options.values()))
    return {
        "choices": ", ".join(str(v) for v in values),
        "choices_zh": "、".join(_LABEL_ZH[v] for v in values),
    }


PROGRAMS = choices(
    {
        Program.RESIDENCY: ("residency", "住院医师规范化培训", "住院医师", "住培"),
        Program.ASSISTANT_GP: ("assistant_gp", "助理全科医师规范化培训", "助理全科"),
    }
)
SUPERVISORS = choices(
    {
        Supervisor.CITY: ("city", "地市", "市", "地市卫健委", "市卫健委"),
        Supervisor.PROVINCE: ("province", "省", "省级", "省卫健委"),
    }
)
PERSONNEL_NAMES: dict[PersonnelType, tuple[str, ...]] = {
    PersonnelType.SOCIAL: ("面向社会招收住院医师", "社会人"),
    PersonnelType.OWN_UNIT: ("本单位住院医师", "单位人"),
    PersonnelType.ENTRUSTED: ("外单位委托培养住院医师", "委托培养"),
    PersonnelType.MASTERS: (
        "全日制硕士专业学位研究生（并轨专硕）",
        "全日制硕士专业学位研究生",
        "并轨专硕",
    ),
    PersonnelType.DELEGATED: ("委派人员",),
    PersonnelType.AID: ("帮扶人员",),
}
PERSONNEL = choices({t: (t.value, *names) for t, names in PERSONNEL_NAMES.items()})
LIST_SEPARATORS = re.compile(r"[,;、\n]")  # after NFKC, which folds ，and ；


def column_limit(model: type[Any], column: str) -> int:
    return int(model.__table__.c[column].type.length)


# --- columns ---------------------------------------------------------------------------------


def map_headers(table: Table, kind: Kind) -> tuple[dict[str, int], list[RowError]]:
    columns = COLUMNS[kind]
    index: dict[str, int] = {}
    errors: list[RowError] = []
    expected = ", ".join(c.key for c in columns)
    expected_zh = "、".join(c.zh for c in columns)
    for i, header in enumerate(table.headers):
        if not header:
            continue
        key = header_key(header)
        column = next((c for c in columns if key in c.names()), None)
        if column is None:
            errors.append(
                RowError(
                    table.source,
                    table.header_row,
                    "column.unknown",
                    {"header": header, "expected": expected, "expected_zh": expected_zh},
                )
            )
        elif column.key in index:
            errors.append(
                RowError(table.source, table.header_row, "column.twice", column_params(column))
            )
        else:
            index[column.key] = i
    for column in columns:
        if column.required and column.key not in index:
            errors.append(
                RowError(table.source, table.header_row, "column.missing", column_params(column))
            )
    return index, errors


def _known_names() -> set[str]:
    return {name for columns in COLUMNS.values() for c in columns for name in c.names()}


_KNOWN: set[str] = set()


def known_header(text: str) -> bool:
    """Whether `text` names a column of some kind of file."""
    if not _KNOWN:
        _KNOWN.update(_known_names())
    return header_key(text) in _KNOWN


def column_params(column: Column) -> dict[str, str]:
    return {"column": column.key, "column_zh": column.zh}


def infer_kind(table: Table) -> Kind:
    """From the file name when it names exactly one kind, else from the header."""
    stem = Path(table.source).stem.lower()
    by_name = [k for k, hints in NAME_HINTS.items() if any(h in stem for h in hints)]
    if len(by_name) == 1:
        return by_name[0]
    fitting = [k for k in Kind if not map_headers(table, k)[1]]
    if len(fitting) == 1:
        return fitting[0]
    raise fail(table.source, "file.kind")
