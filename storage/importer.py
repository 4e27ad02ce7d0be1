"""Reference data from spreadsheets: cities, bases, specialties, batches and plans.

A file is `.xlsx` (first sheet) or `.csv` (UTF-8, with or without BOM); row 1 is the header,
with Chinese or English column names (`城市代码` or `city_code`; case, spaces, `_`, `*` and a
trailing hint in brackets such as `（小时）` do not matter). What a file holds is named by the
caller or inferred from its name (`bases.xlsx`, `招收计划.csv`) or else its header.

Every row is checked before anything is written: required fields, formats, references (to the
database, or to rows earlier in the same file), duplicates within the file, and the periods of a
batch. Any bad row fails the whole file, and each problem is reported with the file, the row as
a spreadsheet counts it (header = 1) and the reason in English and Chinese. Importing a file
again updates the rows it names, by their key (a code; a batch by program and name; a plan by
batch, base and specialty), so importing is idempotent; rows the file does not name are kept.

Times in files are Asia/Shanghai wall-clock (an explicit offset is honoured) and are stored in
UTC. A date without a time means the start of that day for a start, and 23:59:59 for an end.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Application,
    AuditLog,
    Base,
    Batch,
    BatchPersonnelType,
    City,
    Plan,
    Specialty,
)
from workflow.enums import BaseKind, PersonnelType, PlanStatus, Program, Supervisor
from workflow.plans import MAX_PLANNED

SHANGHAI = ZoneInfo("Asia/Shanghai")


class Kind(StrEnum):
    # In dependency order: a file may refer to the kinds before it.
    CITIES = "cities"
    BASES = "bases"
    SPECIALTIES = "specialties"
    BATCHES = "batches"
    PLANS = "plans"


_NAME_HINTS = {
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
    "file.not_utf8": (
        'the file is not UTF-8 text (in Excel, save it as "CSV UTF-8")',
        "文件不是 UTF-8 编码（请在 Excel 中另存为“CSV UTF-8”）",
    ),
    "file.no_header": ("row 1 must be the header", "第 1 行必须是表头"),
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
class Column:
    key: str
    zh: str
    aliases: tuple[str, ...] = ()
    required: bool = True

    def names(self) -> set[str]:
        return {_header_key(n) for n in (self.key, self.zh, *self.aliases)}


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


def _fail(source: str, code: str, **params: Any) -> ImportFailed:
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

_PERIOD_ZH = {
    "apply_start": "报名开始时间",
    "apply_end": "报名结束时间",
    "confirm_start": "学员确认开始时间",
    "confirm_end": "学员确认结束时间",
}


def _header_key(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).strip()
    text = re.sub(r"\([^()]*\)$", "", text)  # a trailing hint: 锁定时长（小时）
    return re.sub(r"[\s_\-*]", "", text).lower()


def _value_key(text: str) -> str:
    return re.sub(r"[\s_\-]", "", unicodedata.normalize("NFKC", text)).lower()


_LABEL_ZH: dict[Any, str] = {}


def _choices(pairs: dict[Any, tuple[str, ...]]) -> dict[str, Any]:
    """Accepted spellings → value; each tuple is (the value, its Chinese name, other names)."""
    _LABEL_ZH.update((value, names[1]) for value, names in pairs.items())
    return {_value_key(name): value for value, names in pairs.items() for name in names}


def _choice_params(options: dict[str, Any]) -> dict[str, str]:
    values = list(dict.fromkeys(options.values()))
    return {
        "choices": ", ".join(str(v) for v in values),
        "choices_zh": "、".join(_LABEL_ZH[v] for v in values),
    }


PROGRAMS = _choices(
    {
        Program.RESIDENCY: ("residency", "住院医师规范化培训", "住院医师", "住培"),
        Program.ASSISTANT_GP: ("assistant_gp", "助理全科医师规范化培训", "助理全科"),
    }
)
SUPERVISORS = _choices(
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
PERSONNEL = _choices({t: (t.value, *names) for t, names in PERSONNEL_NAMES.items()})
_LIST_SEPARATORS = re.compile(r"[,;、\n]")  # after NFKC, which folds ，and ；


def _limit(model: type[Any], column: str) -> int:
    return int(model.__table__.c[column].type.length)


# --- reading files ---------------------------------------------------------------------------


@dataclass
class Table:
    """A header and its rows, each with its number as a spreadsheet user counts it."""

    source: str
    headers: list[str]
    rows: list[tuple[int, list[Any]]]

    @classmethod
    def from_records(
        cls, source: str, headers: Sequence[str], records: Iterable[Sequence[Any]]
    ) -> Table:
        return cls(source, list(headers), [(i, list(r)) for i, r in enumerate(records, start=2)])


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not _clean(value))


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        value = value.replace("\u3000", " ").replace("\xa0", " ").strip()
        return value or None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _read_csv(path: Path) -> tuple[list[Any], list[tuple[int, list[Any]]]]:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _fail(path.name, "file.not_utf8") from exc
    records = list(csv.reader(io.StringIO(text, newline="")))
    if not records:
        return [], []
    return records[0], list(enumerate(records[1:], start=2))


def _xlsx_value(cell: Any) -> Any:
    value, number_format = cell.value, cell.number_format or ""
    # A date cell (no hours in its format) means a day, not its midnight.
    if isinstance(value, datetime) and "h" not in number_format.lower():
        return value.date()
    # A code typed as a number keeps its leading zeros only through a "0000" format.
    if isinstance(value, int | float) and re.fullmatch(r"0{2,}", number_format):
        return str(int(value)).zfill(len(number_format))
    return value


def _read_xlsx(path: Path) -> tuple[list[Any], list[tuple[int, list[Any]]]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise _fail(path.name, "file.unreadable", detail=str(exc) or type(exc).__name__) from exc
    try:
        sheet = workbook.worksheets[0]
        rows = [
            (cells[0].row, [_xlsx_value(c) for c in cells])
            for cells in sheet.iter_rows(min_row=1)
            if cells
        ]
    finally:
        workbook.close()
    if not rows or rows[0][0] != 1:
        return [], rows
    return rows[0][1], rows[1:]


def read_file(path: Path | str) -> Table:
    path = Path(path)
    if not path.is_file():
        raise _fail(path.name, "file.missing")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        header, rows = _read_csv(path)
    elif suffix in {".xlsx", ".xlsm"}:
        header, rows = _read_xlsx(path)
    else:
        raise _fail(path.name, "file.type", suffix=suffix or path.name)
    headers = ["" if _blank(h) else str(_clean(h)) for h in header]
    if not any(headers):
        raise _fail(path.name, "file.no_header")
    return Table(path.name, headers, rows)


# --- columns ---------------------------------------------------------------------------------


def _map_headers(table: Table, kind: Kind) -> tuple[dict[str, int], list[RowError]]:
    columns = COLUMNS[kind]
    index: dict[str, int] = {}
    errors: list[RowError] = []
    expected = ", ".join(c.key for c in columns)
    expected_zh = "、".join(c.zh for c in columns)
    for i, header in enumerate(table.headers):
        if not header:
            continue
        key = _header_key(header)
        column = next((c for c in columns if key in c.names()), None)
        if column is None:
            errors.append(
                RowError(
                    table.source,
                    1,
                    "column.unknown",
                    {"header": header, "expected": expected, "expected_zh": expected_zh},
                )
            )
        elif column.key in index:
            errors.append(RowError(table.source, 1, "column.twice", _col(column)))
        else:
            index[column.key] = i
    for column in columns:
        if column.required and column.key not in index:
            errors.append(RowError(table.source, 1, "column.missing", _col(column)))
    return index, errors


def _col(column: Column) -> dict[str, str]:
    return {"column": column.key, "column_zh": column.zh}


def infer_kind(table: Table) -> Kind:
    """From the file name when it names exactly one kind, else from the header."""
    stem = Path(table.source).stem.lower()
    by_name = [k for k, hints in _NAME_HINTS.items() if any(h in stem for h in hints)]
    if len(by_name) == 1:
        return by_name[0]
    fitting = [k for k in Kind if not _map_headers(table, k)[1]]
    if len(fitting) == 1:
        return fitting[0]
    raise _fail(table.source, "file.kind")


# --- one row ---------------------------------------------------------------------------------


class Row:
    """The cells of one row by column key, and checks that record what is wrong with them."""

    def __init__(self, table: Table, kind: Kind, number: int, values: dict[str, Any]) -> None:
        self.source = table.source
        self.number = number
        self.values = values
        self.columns = {c.key: c for c in COLUMNS[kind]}
        self.errors: list[RowError] = []

    def error(self, code: str, column: str | None = None, **params: Any) -> None:
        if column is not None:
            params = {**_col(self.columns[column]), **params}
        self.errors.append(RowError(self.source, self.number, code, params))

    def raw(self, key: str) -> Any:
        return _clean(self.values.get(key))

    def text(self, key: str, max_len: int, *, required: bool = True) -> str | None:
        value = self.raw(key)
        if value is None:
            if required:
                self.error("required", key)
            return None
        text = value.isoformat() if isinstance(value, date | datetime) else str(value)
        if len(text) > max_len:
            self.error("too_long", key, max=max_len)
            return None
        return text

    def code(self, key: str, max_len: int, *, required: bool = True) -> str | None:
        text = self.text(key, max_len, required=required)
        if text is not None and not re.fullmatch(r"[0-9A-Za-z][0-9A-Za-z._-]*", text):
            self.error("code", key, value=text)
            return None
        return text

    def integer(self, key: str, lo: int, hi: int, default: int | None = None) -> int | None:
        value = self.raw(key)
        if value is None:
            if default is None:
                self.error("required", key)
            return default
        if isinstance(value, str) and re.fullmatch(r"[+-]?\d+", value):
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            self.error("integer", key, value=value, min=lo, max=hi)
            return None
        return value

    def choice(self, key: str, options: dict[str, Any], default: Any = None) -> Any:
        value = self.raw(key)
        if value is None:
            if default is None:
                self.error("required", key)
            return default
        found = options.get(_value_key(str(value)))
        if found is None:
            self.error("choice", key, value=value, **_choice_params(options))
        return found

    def personnel_types(self, key: str) -> list[PersonnelType] | None:
        value = self.raw(key)
        if value is None:
            self.error("types.empty")
            return None
        parts = _LIST_SEPARATORS.split(unicodedata.normalize("NFKC", str(value)))
        found: list[PersonnelType] = []
        for part in (p.strip() for p in parts):
            if not part:
                continue
            ptype = PERSONNEL.get(_value_key(part))
            if ptype is None:
                self.error("choice", key, value=part, **_choice_params(PERSONNEL))
                return None
            if ptype not in found:
                found.append(ptype)
        if not found:
            self.error("types.empty")
            return None
        return found

    def moment(self, key: str, *, end: bool = False) -> datetime | None:
        value = self.raw(key)
        if value is None:
            self.error("required", key)
            return None
        parsed = parse_moment(value, end=end)
        if parsed is None:
            self.error("datetime", key, value=value)
        return parsed


_MOMENT = re.compile(
    r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?"
    r"(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?"
)


def parse_moment(value: Any, *, end: bool = False) -> datetime | None:
    """A cell as an aware UTC datetime: Shanghai wall-clock unless it carries an offset."""
    if isinstance(value, datetime):
        local = value if value.tzinfo else value.replace(tzinfo=SHANGHAI)
        return local.astimezone(UTC)
    if isinstance(value, date):
        return _day(value, end)
    if not isinstance(value, str):
        return None
    match = _MOMENT.fullmatch(unicodedata.normalize("NFKC", value).strip())
    if match is None:
        return None
    y, mo, d, h, mi, s, offset = match.groups()
    try:
        day = date(int(y), int(mo), int(d))
        if h is None:
            return _day(day, end)
        moment = datetime.combine(day, time(int(h), int(mi), int(s or 0)))
    except ValueError:
        return None
    if offset is None:
        return moment.replace(tzinfo=SHANGHAI).astimezone(UTC)
    if offset == "Z":
        return moment.replace(tzinfo=UTC)
    sign = 1 if offset[0] == "+" else -1
    digits = offset[1:].replace(":", "")
    delta = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return (moment - sign * delta).replace(tzinfo=UTC)


def _day(day: date, end: bool) -> datetime:
    wall = datetime.combine(day, time(23, 59, 59) if end else time(0, 0))
    return wall.replace(tzinfo=SHANGHAI).astimezone(UTC)


def _rows(table: Table, kind: Kind, index: dict[str, int]) -> list[Row]:
    rows: list[Row] = []
    for number, cells in table.rows:
        if all(_blank(c) for c in cells):
            continue
        row = Row(
            table, kind, number, {k: cells[i] if i < len(cells) else None for k, i in index.items()}
        )
        used = set(index.values())
        if any(not _blank(c) for i, c in enumerate(cells) if i not in used):
            row.error("row.extra")
        rows.append(row)
    return rows


# --- the kinds -------------------------------------------------------------------------------


def _upsert(session: AsyncSession, row: Any, values: dict[str, Any]) -> str:
    """Add `row` when it is new, else update it from `values`: created, updated or unchanged."""
    if getattr(row, "id", None) is None:
        session.add(row)
        return "created"
    changed = False
    for key, value in values.items():
        if getattr(row, key) != value:
            setattr(row, key, value)
            changed = True
    return "updated" if changed else "unchanged"


class _Seen:
    """Keys met earlier in the file, for duplicates."""

    def __init__(self) -> None:
        self.rows: dict[Any, int] = {}

    def check(self, row: Row, key: Any) -> bool:
        if key in self.rows:
            row.error("duplicate", other=self.rows[key])
            return False
        self.rows[key] = row.number
        return True


async def _import_cities(
    session: AsyncSession, rows: list[Row], result: ImportResult, now: datetime
) -> list[RowError]:
    existing = {c.code: c for c in await session.scalars(select(City))}
    seen, parsed = _Seen(), []
    for row in rows:
        code = row.code("code", _limit(City, "code"))
        name = row.text("name", _limit(City, "name"))
        if code is not None and seen.check(row, code) and name is not None:
            parsed.append((code, name))
    errors = [e for r in rows for e in r.errors]
    if errors:
        return errors
    for code, name in parsed:
        city = existing.get(code) or City(code=code, name=name)
        result.tally(_upsert(session, city, {"name": name}))
    return []


async def _import_bases(
    session: AsyncSession, rows: list[Row], result: ImportResult, now: datetime
) -> list[RowError]:
    cities = list(await session.scalars(select(City)))
    city_by_code = {c.code: c for c in cities}
    city_by_name = {c.name: c for c in cities}
    existing = {b.code: b for b in await session.scalars(select(Base))}
    # What each code is, as far as rows read so far know: the file overrides the database.
    known = {b.code: (BaseKind(b.kind), Supervisor(b.supervisor)) for b in existing.values()}
    seen, parsed = _Seen(), []
    for row in rows:
        code = row.code("code", _limit(Base, "code"))
        name = row.text("name", _limit(Base, "name"))
        city_ref = row.text("city", 64)
        parent = row.code("national_base", _limit(Base, "code"), required=False)
        supervisor = row.choice("supervisor", SUPERVISORS, default=False) or None
        city = None
        if city_ref is not None:
            city = city_by_code.get(city_ref) or city_by_name.get(city_ref)
            if city is None:
                row.error("city.unknown", value=city_ref)
        if code is None or not seen.check(row, code):
            continue
        kind = BaseKind.LOCAL if parent else BaseKind.NATIONAL
        if parent is not None:
            if parent == code:
                row.error("parent.self")
            elif parent not in known:
                row.error("parent.unknown", value=parent)
            elif known[parent][0] is not BaseKind.NATIONAL:
                row.error("parent.local", value=parent)
            else:
                supervisor = supervisor or known[parent][1]
        old = existing.get(code)
        if old is not None and BaseKind(old.kind) is not kind:
            row.error(
                "base.kind_change",
                value=code,
                old=old.kind,
                new=kind.value,
                old_zh=KIND_OF_BASE_ZH[BaseKind(old.kind)],
                new_zh=KIND_OF_BASE_ZH[kind],
            )
        supervisor = supervisor or Supervisor.CITY
        known[code] = (kind, supervisor)
        if not row.errors:
            parsed.append((code, name, city, parent, kind, supervisor))
    errors = [e for r in rows for e in r.errors]
    if errors:
        return errors
    by_code = dict(existing)
    for code, name, city, parent, kind, supervisor in parsed:
        parent_id = by_code[parent].id if parent else None
        values = {
            "name": name,
            "kind": kind,
            "city_id": city.id,
            "parent_id": parent_id,
            "supervisor": supervisor,
        }
        base = by_code.get(code) or Base(code=code, **values)
        by_code[code] = base
        outcome = _upsert(session, base, values)
        result.tally(outcome)
        if outcome == "created":
            await session.flush()  # later rows may name it as their national base
    return []


async def _import_specialties(
    session: AsyncSession, rows: list[Row], result: ImportResult, now: datetime
) -> list[RowError]:
    existing = {(Program(s.program), s.code): s for s in await session.scalars(select(Specialty))}
    seen, parsed = _Seen(), []
    for row in rows:
        code = row.code("code", _limit(Specialty, "code"))
        name = row.text("name", _limit(Specialty, "name"))
        name_en = row.text("name_en", _limit(Specialty, "name_en"), required=False) or ""
        program = row.choice("program", PROGRAMS, default=Program.RESIDENCY)
        if code and program and seen.check(row, (program, code)) and not row.errors:
            parsed.append((program, code, name, name_en))
    errors = [e for r in rows for e in r.errors]
    if errors:
        return errors
    for program, code, name, name_en in parsed:
        values = {"name": name, "name_en": name_en}
        spec = existing.get((program, code)) or Specialty(program=program, code=code, **values)
        result.tally(_upsert(session, spec, values))
    return []


def _check_periods(row: Row, times: dict[str, datetime | None]) -> None:
    def order(start: str, end: str) -> bool:
        a, b = times[start], times[end]
        if a is not None and b is not None and a >= b:
            row.error(
                "period.order",
                start=start,
                end=end,
                start_zh=_PERIOD_ZH[start],
                end_zh=_PERIOD_ZH[end],
            )
            return False
        return a is not None and b is not None

    apply_ok = order("apply_start", "apply_end")
    confirm_ok = order("confirm_start", "confirm_end")
    if apply_ok and confirm_ok:
        if times["confirm_start"] < times["apply_start"]:  # type: ignore[operator]
            row.error("period.confirm_start")
        if times["confirm_end"] <= times["apply_end"]:  # type: ignore[operator]
            row.error("period.confirm_end")


async def _import_batches(
    session: AsyncSession, rows: list[Row], result: ImportResult, now: datetime
) -> list[RowError]:
    existing = {(Program(b.program), b.name): b for b in await session.scalars(select(Batch))}
    with_applications = set(
        await session.scalars(select(Application.batch_id).group_by(Application.batch_id))
    )
    seen, parsed = _Seen(), []
    for row in rows:
        program = row.choice("program", PROGRAMS)
        name = row.text("name", _limit(Batch, "name"))
        cohort = row.integer("cohort_year", 2000, 2100)
        times = {
            "apply_start": row.moment("apply_start"),
            "apply_end": row.moment("apply_end", end=True),
            "confirm_start": row.moment("confirm_start"),
            "confirm_end": row.moment("confirm_end", end=True),
        }
        types = row.personnel_types("personnel_types")
        lock_hours = row.integer("lock_hours", 0, 168, default=12)
        offer_hours = row.integer("offer_hours", 1, 720, default=48)
        notes = row.text("notes", _limit(Batch, "notes"), required=False) or ""
        _check_periods(row, times)
        if program is None or name is None or not seen.check(row, (program, name)):
            continue
        old = existing.get((program, name))
        if old and cohort and old.cohort_year != cohort and old.id in with_applications:
            row.error("batch.cohort_locked")
        if not row.errors:
            values = {
                "cohort_year": cohort,
                **times,
                "lock_hours": lock_hours,
                "offer_hours": offer_hours,
                "notes": notes,
            }
            parsed.append((program, name, values, types))
    errors = [e for r in rows for e in r.errors]
    if errors:
        return errors
    for program, name, values, types in parsed:
        batch = existing.get((program, name)) or Batch(
            program=program, name=name, created_at=now, **values
        )
        outcome = _upsert(session, batch, values)
        await session.flush()
        assert batch.id is not None
        if await _set_types(session, batch.id, types) and outcome == "unchanged":
            outcome = "updated"
        result.tally(outcome)
    return []


async def _set_types(session: AsyncSession, batch_id: int, types: list[PersonnelType]) -> bool:
    """Make the batch's personnel types exactly `types`; True when that changed something."""
    rows = list(
        await session.scalars(
            select(BatchPersonnelType).where(BatchPersonnelType.batch_id == batch_id)
        )
    )
    have = {PersonnelType(r.personnel_type) for r in rows}
    for r in rows:
        if PersonnelType(r.personnel_type) not in types:
            await session.delete(r)
    for t in types:
        if t not in have:
            session.add(BatchPersonnelType(batch_id=batch_id, personnel_type=t))
    return have != set(types)


async def _import_plans(
    session: AsyncSession, rows: list[Row], result: ImportResult, now: datetime
) -> list[RowError]:
    batches = list(await session.scalars(select(Batch)))
    bases = {b.code: b for b in await session.scalars(select(Base))}
    specs = {(Program(s.program), s.code): s for s in await session.scalars(select(Specialty))}
    existing = {
        (p.batch_id, p.base_id, p.specialty_id): p for p in await session.scalars(select(Plan))
    }
    seen, parsed = _Seen(), []
    for row in rows:
        batch_name = row.text("batch", _limit(Batch, "name"))
        program = row.choice("program", PROGRAMS, default=False) or None
        base_code = row.code("base", _limit(Base, "code"))
        spec_code = row.code("specialty", _limit(Specialty, "code"))
        planned = row.integer("planned", 0, MAX_PLANNED)
        batch = None
        if batch_name is not None:
            named = [b for b in batches if b.name == batch_name]
            named = [b for b in named if program is None or Program(b.program) is program]
            if not named:
                row.error("batch.unknown", value=batch_name)
            elif len(named) > 1:
                row.error("batch.ambiguous", value=batch_name)
            else:
                batch = named[0]
        base = None
        if base_code is not None:
            base = bases.get(base_code)
            if base is None:
                row.error("base.unknown", value=base_code)
            elif BaseKind(base.kind) is not BaseKind.NATIONAL:
                row.error("base.not_national", value=base_code)
                base = None
        spec = None
        if spec_code is not None and batch is not None:
            batch_program = Program(batch.program)
            spec = specs.get((batch_program, spec_code))
            if spec is None:
                row.error(
                    "specialty.unknown",
                    value=spec_code,
                    program=batch_program.value,
                    program_zh=PROGRAM_ZH[batch_program],
                )
        if batch is None or base is None or spec is None:
            continue
        key = (batch.id, base.id, spec.id)
        if seen.check(row, key) and not row.errors:
            parsed.append((key, planned))
    errors = [e for r in rows for e in r.errors]
    if errors:
        return errors
    for (batch_id, base_id, spec_id), planned in parsed:
        plan = existing.get((batch_id, base_id, spec_id))
        if plan is not None and plan.planned == planned and plan.status != PlanStatus.DECLARED:
            result.unchanged += 1
            continue
        values = {"planned": planned, "status": PlanStatus.APPROVED, "reason": None}
        if plan is None:
            plan = Plan(batch_id=batch_id, base_id=base_id, specialty_id=spec_id, **values)
        plan.decided_at = now
        result.tally(_upsert(session, plan, values))
    return []


_IMPORTERS = {
    Kind.CITIES: _import_cities,
    Kind.BASES: _import_bases,
    Kind.SPECIALTIES: _import_specialties,
    Kind.BATCHES: _import_batches,
    Kind.PLANS: _import_plans,
}


async def import_table(
    session: AsyncSession, table: Table, kind: Kind | str | None = None, *, now: datetime
) -> ImportResult:
    """Check every row of `table`, then apply them all in the caller's transaction; raise
    `ImportFailed` (having written nothing) when any row is wrong."""
    kind = Kind(kind) if kind else infer_kind(table)
    index, errors = _map_headers(table, kind)
    if errors:
        raise ImportFailed(errors)
    rows = _rows(table, kind, index)
    if not rows:
        raise _fail(table.source, "file.no_rows")
    result = ImportResult(table.source, kind)
    errors = await _IMPORTERS[kind](session, rows, result, now)
    if errors:
        raise ImportFailed(errors)
    await session.flush()
    session.add(
        AuditLog(
            at=now,
            entity=kind.value[:32],
            entity_id=0,
            action="import",
            detail={
                "source": table.source,
                "created": result.created,
                "updated": result.updated,
                "unchanged": result.unchanged,
            },
        )
    )
    return result


async def import_file(
    session: AsyncSession, path: Path | str, kind: Kind | str | None = None, *, now: datetime
) -> ImportResult:
    return await import_table(session, read_file(path), kind, now=now)
