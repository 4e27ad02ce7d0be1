"""What an import reports: the kinds of file, the reasons a row is refused (English and
Chinese), and the outcome."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from workflow.enums import BaseKind, Program

SHANGHAI = ZoneInfo("Asia/Shanghai")


class Kind(StrEnum):
    # In dependency order: a file may refer to the kinds before it.
    CITIES = "cities"
    BASES = "bases"
    SPECIALTIES = "specialties"
    BATCHES = "batches"
    PLANS = "plans"


NAME_HINTS = {
    Kind.CITIES: ("cities", "city", "城市"),
    Kind.BASES: ("bases", "base", "基地"),
    Kind.SPECIALTIES: ("specialties", "specialty", "专业"),
    Kind.BATCHES: ("batches", "batch", "批次"),
    Kind.PLANS: ("plans", "plan", "计划"),
}

# --- messages --------------------------------------------------------------------------------

MESSAGES: dict[str, tuple[str, str]] = {
    "file.missing": ("file not found", "找不到文件"),
    "file.type": (
        "unsupported file type {suffix!r}: use .xlsx or .csv",
        "不支持的文件类型“{suffix}”：请使用 .xlsx 或 .csv",
    ),
    "file.unreadable": ("cannot read the file: {detail}", "无法读取文件：{detail}"),
    "file.encoding": (
        'cannot tell the text encoding of the file (save it as "CSV UTF-8" or as .xlsx)',
        "无法识别文件的文字编码（请另存为“CSV UTF-8”或 .xlsx）",
    ),
    "file.no_header": (
        "no header found: one of the first 10 rows must name the columns",
        "找不到表头：前 10 行中须有一行为列名",
    ),
    "file.no_rows": ("the file has no data rows", "文件没有数据行"),
    "file.kind": (
        "cannot tell what the file holds: name it after its kind "
        "(cities, bases, specialties, batches, plans) or pass --kind",
        "无法判断文件内容：请按类型命名文件（城市、基地、专业、批次、计划）或使用 --kind 指定",
    ),
    "column.missing": ("missing column {column}", "缺少列“{column_zh}”"),
    "column.unknown": (
        'unknown column "{header}" (expected: {expected})',
        "无法识别的列“{header}”（可用列：{expected_zh}）",
    ),
    "column.twice": ("column {column} appears twice", "列“{column_zh}”出现了两次"),
    "row.extra": (
        "the row has values in a column without a header",
        "该行在没有表头的列中有内容",
    ),
    "required": ("{column} is required", "{column_zh}不能为空"),
    "too_long": ("{column} is longer than {max} characters", "{column_zh}超过 {max} 个字符"),
    "code.lost_zero": (
        '{column} "{value}" was stored as a number and lost its leading zeros (the code is '
        'probably "{intended}"): format the column as text (Format Cells → Text) and type the '
        "code again, or type it with an apostrophe: '{intended}",
        "{column_zh}“{value}”被存成了数字，丢失了开头的 0（代码应为“{intended}”）：请把该列设置为"
        "文本格式（设置单元格格式 → 文本）后重新输入，或以英文单引号开头输入：'{intended}",
    ),
    "code": (
        '{column} "{value}" may contain only letters, digits, ".", "_" and "-"',
        "{column_zh}“{value}”只能包含字母、数字、“.”、“_”和“-”",
    ),
    "integer": (
        '{column} "{value}" must be a whole number from {min} to {max}',
        "{column_zh}“{value}”必须是 {min} 到 {max} 之间的整数",
    ),
    "datetime": (
        '{column} "{value}" is not a date and time like 2026-07-01 09:00',
        "{column_zh}“{value}”不是有效的日期时间（例如 2026-07-01 09:00）",
    ),
    "choice": (
        '{column} "{value}" is not one of: {choices}',
        "{column_zh}“{value}”不是以下之一：{choices_zh}",
    ),
    "types.empty": ("name at least one personnel type", "至少填写一种人员类型"),
    "duplicate": ("duplicate of row {other}", "与第 {other} 行重复"),
    "city.unknown": ('city "{value}" does not exist', "城市“{value}”不存在"),
    "parent.unknown": (
        'national base "{value}" does not exist (in the database or earlier in this file)',
        "国家住培基地“{value}”不存在（数据库中和本文件前面的行中都没有）",
    ),
    "parent.local": (
        '"{value}" is a local base, not a national base',
        "“{value}”是地方住培基地，不是国家住培基地",
    ),
    "parent.self": ("a base cannot be its own national base", "基地不能以自身为所属国家住培基地"),
    "base.kind_change": (
        'base "{value}" exists as a {old} base and cannot become a {new} base',
        "基地“{value}”已是{old_zh}，不能改为{new_zh}",
    ),
    "base.unknown": ('base "{value}" does not exist', "基地“{value}”不存在"),
    "base.not_national": (
        'plans belong to national bases: "{value}" is a local base',
        "招收计划属于国家住培基地：“{value}”是地方住培基地",
    ),
    "batch.unknown": ('batch "{value}" does not exist', "招收批次“{value}”不存在"),
    "batch.ambiguous": (
        'batch "{value}" exists in both programs: add a program column',
        "两个业务入口中都有批次“{value}”：请添加“业务入口”列",
    ),
    "batch.cohort_locked": (
        "the cohort year cannot change: the batch already has applications",
        "该批次已有报名，届别不能修改",
    ),
    "specialty.unknown": (
        'specialty "{value}" does not exist in program {program}',
        "{program_zh}中不存在专业“{value}”",
    ),
    "period.order": ("{start} must be before {end}", "{start_zh}必须早于{end_zh}"),
    "period.confirm_start": (
        "the confirmation period cannot start before the application period",
        "学员确认周期不能早于报名周期开始",
    ),
    "period.confirm_end": (
        "the confirmation period must end after the application period",
        "学员确认周期必须晚于报名周期结束",
    ),
}

PROGRAM_ZH = {
    Program.RESIDENCY: "住院医师规范化培训",
    Program.ASSISTANT_GP: "助理全科医师规范化培训",
}
KIND_OF_BASE_ZH = {BaseKind.NATIONAL: "国家住培基地", BaseKind.LOCAL: "地方住培基地"}


@dataclass(frozen=True)
class RowError:
    source: str
    row: int  # 0: the file as a whole
    code: str
    params: dict[str, Any] = field(default_factory=dict)

    def reason(self) -> str:
        en, zh = MESSAGES[self.code]
        return f"{en.format(**self.params)} / {zh.format(**self.params)}"

    def __str__(self) -> str:
        where = f"{self.source}, row {self.row}" if self.row else self.source
        return f"{where}: {self.reason()}"


class ImportFailed(Exception):
    """The file was not applied; `errors` says why, row by row."""

    def __init__(self, errors: Sequence[RowError]) -> None:
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = list(errors)


def fail(source: str, code: str, **params: Any) -> ImportFailed:
    return ImportFailed([RowError(source, 0, code, params)])


@dataclass
class ImportResult:
    source: str
    kind: Kind
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def rows(self) -> int:
        return self.created + self.updated + self.unchanged

    def tally(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)

    def __str__(self) -> str:
        return (
            f"{self.source} ({self.kind.value}): {self.rows} row(s) — {self.created} created, "
            f"{self.updated} updated, {self.unchanged} unchanged"
        )
