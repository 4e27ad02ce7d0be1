"""`zhupei import`: every kind from .csv and .xlsx, all-or-nothing files, idempotent re-imports."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from reference.importer import ImportFailed, Kind, Table, import_table
from storage.models import Base, Batch, BatchPersonnelType, City, Plan, Specialty
from tests.cli.conftest import Zhupei, in_db
from workflow.enums import BaseKind, PersonnelType, PlanStatus, Program, Supervisor

NOW = datetime(2026, 6, 1, tzinfo=UTC)
BATCH = "2026年住院医师规范化培训招收（第一批）"

HEADERS = {
    "zh": {
        Kind.CITIES: ["城市代码", "城市名称"],
        Kind.BASES: ["基地代码", "基地名称", "城市代码", "国家住培基地代码", "上级主管卫健委"],
        Kind.SPECIALTIES: ["专业代码", "专业名称", "英文名称", "业务入口"],
        Kind.BATCHES: ["业务入口", "批次名称", "届别", "报名开始时间", "报名结束时间", "适用于",
                       "锁定时长（小时）", "学员确认开始时间", "学员确认结束时间", "招收说明"],
        Kind.PLANS: ["批次名称", "基地代码", "专业代码", "招收计划数"],
    },
    "en": {
        Kind.CITIES: ["city_code", "City Name"],
        Kind.BASES: ["code", "name", "city", "national_base", "supervisor"],
        Kind.SPECIALTIES: ["code", "name", "name_en", "program"],
        Kind.BATCHES: ["program", "name", "cohort_year", "apply_start", "apply_end",
                       "personnel_types", "lock_hours", "confirm_start", "confirm_end", "notes"],
        Kind.PLANS: ["batch", "base_code", "specialty_code", "planned"],
    },
}  # fmt: skip

ROWS: dict[Kind, list[list[Any]]] = {
    Kind.CITIES: [["4401", "广州市"], ["4403", "深圳市"]],
    Kind.BASES: [
        ["GZ01", "广州市红十字会医院", "4401", "", "省"],
        ["GZ01-1", "广州市红十字会医院", "4401", "GZ01", ""],
        ["GZ01-2", "广州市红十字会医院深圳分院", "深圳市", "GZ01", ""],
        ["SZ01", "深圳市人民医院", "4403", "", "city"],
        ["SZ01-1", "深圳市人民医院", "4403", "SZ01", ""],
    ],
    Kind.SPECIALTIES: [
        ["0100", "内科", "Internal Medicine", "住院医师规范化培训"],
        ["0200", "儿科", "Pediatrics", ""],
        ["A0700", "助理全科", "Assistant General Practice", "assistant_gp"],
    ],
    Kind.BATCHES: [
        [
            "住培",
            BATCH,
            2026,
            datetime(2026, 7, 1, 9, 0),
            date(2026, 7, 15),  # a day: the end of it
            "面向社会招收住院医师，本单位住院医师; masters",
            None,
            "2026/7/20 09:00",
            "2026-08-01 17:00",
            "请按照住培基地录取结果选择对应的住培基地和培训专业。",
        ]
    ],
    Kind.PLANS: [[BATCH, "GZ01", "0100", 5], [BATCH, "SZ01", "0200", "3"]],
}


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return str(value)


def write(
    path: Path, header: Sequence[str], rows: Sequence[Sequence[Any]], bom: bool = False
) -> Path:
    if path.suffix == ".csv":
        with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(header)
            writer.writerows([_csv_cell(c) for c in row] for row in rows)
    else:
        workbook = Workbook()
        sheet = workbook.active
        assert sheet is not None
        sheet.append(list(header))
        for row in rows:
            sheet.append([None if c == "" else c for c in row])
        workbook.save(path)
    return path


def write_kind(folder: Path, kind: Kind, fmt: str, rows: list[list[Any]] | None = None) -> Path:
    lang = "zh" if fmt == "csv" else "en"
    return write(folder / f"{kind.value}.{fmt}", HEADERS[lang][kind], rows or ROWS[kind])


async def counts(session: AsyncSession) -> dict[str, int]:
    out = {}
    for model in (City, Base, Specialty, Batch, BatchPersonnelType, Plan):
        out[model.__name__] = int(await session.scalar(select(func.count()).select_from(model)))
    return out


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_every_kind_imports(zhupei: Zhupei, migrated: Settings, tmp_path: Path, fmt: str) -> None:
    files = [write_kind(tmp_path, kind, fmt) for kind in Kind]
    result = zhupei(migrated, "import", *reversed(files))  # applied in dependency order anyway
    assert result.code == 0, result.err
    assert f"plans.{fmt} (plans): 2 row(s) — 2 created" in result.out

    async def check(session: AsyncSession) -> None:
        bases = {b.code: b for b in await session.scalars(select(Base))}
        cities = {c.id: c.code for c in await session.scalars(select(City))}
        assert bases["GZ01"].kind == BaseKind.NATIONAL
        assert bases["GZ01"].supervisor == Supervisor.PROVINCE
        assert bases["GZ01-1"].parent_id == bases["GZ01"].id
        assert bases["GZ01-1"].supervisor == Supervisor.PROVINCE  # its national base's
        assert cities[bases["GZ01-2"].city_id] == "4403"  # a city named by its name
        assert bases["SZ01"].supervisor == Supervisor.CITY
        spec = await session.scalar(select(Specialty).where(Specialty.code == "A0700"))
        assert spec is not None and spec.program == Program.ASSISTANT_GP
        batch = await session.scalar(select(Batch))
        assert batch is not None
        assert batch.program == Program.RESIDENCY and batch.cohort_year == 2026
        assert batch.apply_start == datetime(2026, 7, 1, 1, 0, tzinfo=UTC)  # 09:00 Shanghai
        assert batch.apply_end == datetime(2026, 7, 15, 15, 59, 59, tzinfo=UTC)
        assert batch.confirm_start == datetime(2026, 7, 20, 1, 0, tzinfo=UTC)
        assert batch.confirm_end == datetime(2026, 8, 1, 9, 0, tzinfo=UTC)
        assert batch.lock_hours == 12 and batch.offer_hours == 48
        types = set(await session.scalars(select(BatchPersonnelType.personnel_type)))
        assert types == {PersonnelType.SOCIAL, PersonnelType.OWN_UNIT, PersonnelType.MASTERS}
        plans = {(p.base_id, p.planned, p.status) for p in await session.scalars(select(Plan))}
        assert plans == {
            (bases["GZ01"].id, 5, PlanStatus.APPROVED),
            (bases["SZ01"].id, 3, PlanStatus.APPROVED),
        }

    in_db(migrated.resolved_database_url, check)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_one_bad_row_applies_nothing(
    zhupei: Zhupei, migrated: Settings, tmp_path: Path, fmt: str
) -> None:
    assert zhupei(migrated, "import", write_kind(tmp_path, Kind.CITIES, fmt)).code == 0
    rows = [list(r) for r in ROWS[Kind.BASES]]
    rows[2][2] = "9999"  # spreadsheet row 4
    result = zhupei(migrated, "import", write_kind(tmp_path, Kind.BASES, fmt, rows))
    assert result.code == 1
    assert f'bases.{fmt}, row 4: city "9999" does not exist / 城市“9999”不存在' in result.err
    assert "nothing of it was applied" in result.err
    assert "Traceback" not in result.err
    assert in_db(migrated.resolved_database_url, counts)["Base"] == 0


def test_reimport_is_idempotent(zhupei: Zhupei, migrated: Settings, tmp_path: Path) -> None:
    files = [write_kind(tmp_path, kind, "csv") for kind in Kind]
    url = migrated.resolved_database_url
    assert zhupei(migrated, "import", *files).code == 0
    first = in_db(url, counts)

    again = zhupei(migrated, "import", *files)
    assert again.code == 0
    assert again.out.count("0 created, 0 updated") == len(Kind)
    assert in_db(url, counts) == first

    rows = [list(r) for r in ROWS[Kind.BASES]]
    rows[3][1] = "深圳市人民医院（本部）"
    changed = zhupei(migrated, "import", write_kind(tmp_path, Kind.BASES, "csv", rows))
    assert "1 updated, 4 unchanged" in changed.out
    plans = [list(r) for r in ROWS[Kind.PLANS]]
    plans[0][3] = 8
    changed = zhupei(migrated, "import", write_kind(tmp_path, Kind.PLANS, "csv", plans))
    assert "1 updated, 1 unchanged" in changed.out
    batches = [list(r) for r in ROWS[Kind.BATCHES]]
    batches[0][5] = "social"
    changed = zhupei(migrated, "import", write_kind(tmp_path, Kind.BATCHES, "csv", batches))
    assert "1 updated" in changed.out
    after = in_db(url, counts)
    assert after == {**first, "BatchPersonnelType": 1}


def test_kind_from_the_header_or_the_option(
    zhupei: Zhupei, migrated: Settings, tmp_path: Path
) -> None:
    cities = write(tmp_path / "export-1.csv", HEADERS["zh"][Kind.CITIES], ROWS[Kind.CITIES])
    assert "export-1.csv (cities)" in zhupei(migrated, "import", cities).out

    unclear = write(tmp_path / "export-2.csv", ["code", "name"], [["0100", "内科"]])
    refused = zhupei(migrated, "import", unclear)
    assert refused.code == 1 and "cannot tell what the file holds" in refused.err
    named = zhupei(migrated, "import", "--kind", "specialties", unclear)
    assert named.code == 0 and "(specialties)" in named.out


def test_xlsx_numbers_as_codes(zhupei: Zhupei, migrated: Settings, tmp_path: Path) -> None:
    path = write(tmp_path / "专业.xlsx", HEADERS["zh"][Kind.SPECIALTIES], [[100, "内科", "", ""]])
    workbook = load_workbook(path)
    workbook.active["A2"].number_format = "0000"  # type: ignore[index]
    workbook.save(path)
    assert zhupei(migrated, "import", path).code == 0
    codes = in_db(migrated.resolved_database_url, lambda s: s.scalars(select(Specialty.code)))
    assert list(codes) == ["0100"]


def test_csv_encodings(zhupei: Zhupei, migrated: Settings, tmp_path: Path) -> None:
    bom = write(tmp_path / "cities.csv", HEADERS["zh"][Kind.CITIES], ROWS[Kind.CITIES], bom=True)
    assert zhupei(migrated, "import", bom).code == 0
    plain = write(tmp_path / "城市.csv", HEADERS["zh"][Kind.CITIES], [["4402", "韶关市"]])
    assert zhupei(migrated, "import", plain).code == 0
    names = in_db(migrated.resolved_database_url, lambda s: s.scalars(select(City.name)))
    assert sorted(names) == ["广州市", "深圳市", "韶关市"]


def _failure(url: str, kind: Kind, header: list[str], rows: list[list[Any]]) -> list[str]:
    async def work(session: AsyncSession) -> None:
        await import_table(
            session, Table.from_records(f"{kind.value}.csv", header, rows), kind, now=NOW
        )

    with pytest.raises(ImportFailed) as failed:
        in_db(url, work)
    return [str(e) for e in failed.value.errors]


def _load(url: str, *kinds: Kind) -> None:
    async def work(session: AsyncSession) -> None:
        for kind in kinds:
            table = Table.from_records(kind.value, HEADERS["en"][kind], ROWS[kind])
            await import_table(session, table, kind, now=NOW)

    in_db(url, work)


def test_row_checks(migrated: Settings) -> None:
    url = migrated.resolved_database_url
    _load(url, Kind.CITIES, Kind.BASES, Kind.SPECIALTIES)
    en = HEADERS["en"]

    errors = _failure(url, Kind.CITIES, ["code"], [["4405"]])
    assert errors == ["cities.csv, row 1: missing column name / 缺少列“城市名称”"]
    errors = _failure(url, Kind.CITIES, ["code", "name", "population"], [["4405", "汕头市", 5]])
    assert errors[0].startswith('cities.csv, row 1: unknown column "population"')
    errors = _failure(url, Kind.CITIES, ["code", "name", ""], [["4405", "汕头市", "x"]])
    assert errors == [
        "cities.csv, row 2: the row has values in a column without a header"
        " / 该行在没有表头的列中有内容"
    ]

    errors = _failure(
        url,
        Kind.SPECIALTIES,
        en[Kind.SPECIALTIES],
        [["0300", "急诊科", "", ""], ["0300", "急诊", "", "住院医师"], ["03 00", "x", "", "y"]],
    )
    assert errors == [
        "specialties.csv, row 3: duplicate of row 2 / 与第 2 行重复",
        'specialties.csv, row 4: code "03 00" may contain only letters, digits, ".", "_" and "-"'
        " / 专业代码“03 00”只能包含字母、数字、“.”、“_”和“-”",
        'specialties.csv, row 4: program "y" is not one of: residency, assistant_gp'
        " / 业务入口“y”不是以下之一：住院医师规范化培训、助理全科医师规范化培训",
    ]

    errors = _failure(
        url,
        Kind.BASES,
        en[Kind.BASES],
        [["HZ01-1", "惠州市中心人民医院", "4401", "HZ01", ""], ["HZ01", "惠州", "4401", "", ""]],
    )
    assert errors == [
        'bases.csv, row 2: national base "HZ01" does not exist (in the database or earlier in '
        "this file) / 国家住培基地“HZ01”不存在（数据库中和本文件前面的行中都没有）"
    ]
    errors = _failure(url, Kind.BASES, en[Kind.BASES], [["X1", "某医院", "4401", "GZ01-1", ""]])
    assert errors == [
        'bases.csv, row 2: "GZ01-1" is a local base, not a national base'
        " / “GZ01-1”是地方住培基地，不是国家住培基地"
    ]

    batch = ROWS[Kind.BATCHES][0]
    swapped = [*batch[:3], batch[4], batch[3], *batch[5:]]
    early = [*batch[:7], "2026-07-02 09:00", "2026-07-10 17:00", ""]
    bad = [*batch[:3], "next monday", batch[4], "面向社会招收住院医师，实习生", 999, *batch[7:]]
    errors = _failure(url, Kind.BATCHES, en[Kind.BATCHES], [swapped, early, bad])
    assert errors == [
        "batches.csv, row 2: apply_start must be before apply_end"
        " / 报名开始时间必须早于报名结束时间",
        "batches.csv, row 3: the confirmation period must end after the application period"
        " / 学员确认周期必须晚于报名周期结束",
        "batches.csv, row 3: duplicate of row 2 / 与第 2 行重复",
        'batches.csv, row 4: apply_start "next monday" is not a date and time like 2026-07-01'
        " 09:00 / 报名开始时间“next monday”不是有效的日期时间（例如 2026-07-01 09:00）",
        'batches.csv, row 4: personnel_types "实习生" is not one of: social, own_unit, entrusted,'
        " masters, delegated, aid / 适用于“实习生”不是以下之一：面向社会招收住院医师、"
        "本单位住院医师、外单位委托培养住院医师、全日制硕士专业学位研究生（并轨专硕）、"
        "委派人员、帮扶人员",
        'batches.csv, row 4: lock_hours "999" must be a whole number from 0 to 168'
        " / 锁定时长“999”必须是 0 到 168 之间的整数",
        "batches.csv, row 4: duplicate of row 2 / 与第 2 行重复",
    ]

    _load(url, Kind.BATCHES)
    errors = _failure(
        url,
        Kind.PLANS,
        en[Kind.PLANS],
        [
            ["2025年招收", "GZ01", "0100", 1],
            [BATCH, "GZ01-1", "0100", 1],
            [BATCH, "GZ01", "A0700", 1],
            [BATCH, "GZ01", "0100", 1000],
        ],
    )
    assert errors == [
        'plans.csv, row 2: batch "2025年招收" does not exist / 招收批次“2025年招收”不存在',
        'plans.csv, row 3: plans belong to national bases: "GZ01-1" is a local base'
        " / 招收计划属于国家住培基地：“GZ01-1”是地方住培基地",
        'plans.csv, row 4: specialty "A0700" does not exist in program residency'
        " / 住院医师规范化培训中不存在专业“A0700”",
        'plans.csv, row 5: planned "1000" must be a whole number from 0 to 999'
        " / 招收计划数“1000”必须是 0 到 999 之间的整数",
    ]
