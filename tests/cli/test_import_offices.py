"""`zhupei import` on files as offices make them: GBK and GB18030 CSVs, a title row above the
header, the template filled in, and codes that lost their leading zeros in a number cell."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook
from sqlalchemy import select

from bot.config import Settings
from reference.importer import Kind
from reference.importer.columns import COLUMNS
from storage.models import Base, City, Plan, Specialty
from tests.cli.conftest import Zhupei, in_db
from tests.cli.test_import import BATCH, HEADERS, ROWS, counts, write, write_kind

GBK_ROWS = "城市代码,城市名称\r\n4402,韶关市\r\n4404,珠海市\r\n4405,汕头市\r\n4406,佛山市\r\n"


def _codes(url: str, model: Any) -> list[str]:
    return sorted(in_db(url, lambda s: s.scalars(select(model.code))))


def test_gbk_and_gb18030_csv(zhupei: Zhupei, migrated: Settings, tmp_path: Path) -> None:
    gbk = tmp_path / "cities-wps.csv"
    gbk.write_bytes(GBK_ROWS.encode("gbk"))
    result = zhupei(migrated, "import", gbk)
    assert result.code == 0, result.err
    assert "4 created" in result.out
    url = migrated.resolved_database_url
    names = in_db(url, lambda s: s.scalars(select(City.name).order_by(City.code)))
    assert list(names) == ["韶关市", "珠海市", "汕头市", "佛山市"]

    # GB18030 beyond GBK: a rare character of a hospital's name.
    bases = tmp_path / "基地.csv"
    text = "基地代码,基地名称,城市代码\r\nST01,汕头市䶮山医院,4405\r\n"
    bases.write_bytes(text.encode("gb18030"))
    assert zhupei(migrated, "import", bases).code == 0
    assert in_db(url, lambda s: s.scalar(select(Base.name))) == "汕头市䶮山医院"


def _titled_sheet(path: Path, header: list[str], rows: list[list[Any]]) -> Path:
    wb = Workbook()
    ws = wb.worksheets[0]
    ws.append(["2026年广东省住院医师规范化培训专业目录"])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(header))
    ws.append(["填表说明：专业代码为文本，请勿删除开头的 0。"])
    ws.append([])
    ws.append(header)
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def test_title_and_note_rows_above_the_header(
    zhupei: Zhupei, migrated: Settings, tmp_path: Path
) -> None:
    header = HEADERS["zh"][Kind.SPECIALTIES]
    path = _titled_sheet(tmp_path / "专业目录.xlsx", header, ROWS[Kind.SPECIALTIES])
    result = zhupei(migrated, "import", path)
    assert result.code == 0, result.err
    assert "(specialties): 3 row(s) — 3 created" in result.out
    assert _codes(migrated.resolved_database_url, Specialty) == ["0100", "0200", "A0700"]

    # Rows are reported as the sheet counts them: the header is row 4.
    bad = _titled_sheet(tmp_path / "专业目录2.xlsx", header, [["0300", "", "", ""]])
    refused = zhupei(migrated, "import", bad)
    assert refused.code == 1
    assert "专业目录2.xlsx, row 5: name is required / 专业名称不能为空" in refused.err


def test_template_filled_in_and_imported(
    zhupei: Zhupei, migrated: Settings, tmp_path: Path
) -> None:
    url = migrated.resolved_database_url
    assert zhupei(migrated, "import", write_kind(tmp_path, Kind.CITIES, "csv")).code == 0
    out = tmp_path / "基地模板.xlsx"
    made = zhupei(migrated, "import", "--template", "bases", "--out", out)
    assert made.code == 0, made.err
    again = zhupei(migrated, "import", "--template", "bases", "--out", out)
    assert again.code == 1 and "exists" in again.err  # never overwritten

    wb = load_workbook(out)
    sheet, rules = wb.worksheets
    assert [c.value for c in sheet[1]] == [c.zh for c in COLUMNS[Kind.BASES]]
    assert [c.value for c in sheet[2]][:3] == ["GD440111", "广州市红十字会医院", "4401"]
    assert sheet["A3"].number_format == "@"  # codes typed in stay text
    texts = [[c.value for c in row] for row in rules.iter_rows()]
    assert texts[3][:2] == ["基地代码", "必填"] and "GD440111" in texts[3][2]
    assert texts[6][:2] == ["国家住培基地代码", "选填"]
    assert ["城市代码", "4401", "广州市"] in texts and ["城市代码", "4403", "深圳市"] in texts
    assert ["上级主管卫健委", "province", "省"] in texts

    sheet.delete_rows(2)
    for row in ROWS[Kind.BASES]:
        sheet.append([None if v == "" else v for v in row])
    wb.save(out)
    result = zhupei(migrated, "import", out)
    assert result.code == 0, result.err
    assert "(bases): 5 row(s) — 5 created" in result.out
    assert _codes(url, Base) == ["GZ01", "GZ01-1", "GZ01-2", "SZ01", "SZ01-1"]

    en = tmp_path / "plans-en.xlsx"
    assert zhupei(migrated, "import", "--template", "plans", "--out", en, "--lang", "en").code == 0
    header = [c.value for c in load_workbook(en).worksheets[0][1]]
    assert header == [c.key for c in COLUMNS[Kind.PLANS]]


def _specialties_first(zhupei: Zhupei, settings: Settings, folder: Path) -> None:
    files = [write_kind(folder, k, "csv") for k in Kind]
    assert zhupei(settings, "import", *files).code == 0
    rows = [["0400", "皮肤科", "Dermatology", ""]]
    assert zhupei(settings, "import", write_kind(folder, Kind.SPECIALTIES, "csv", rows)).code == 0


def test_lost_leading_zero_refused_nothing_applied(
    zhupei: Zhupei, migrated: Settings, tmp_path: Path
) -> None:
    url = migrated.resolved_database_url
    _specialties_first(zhupei, migrated, tmp_path)
    before = in_db(url, counts)

    # 0400 typed into a General cell arrives as the number 400.
    header = HEADERS["zh"][Kind.SPECIALTIES]
    rows = [["0500", "眼科", "", ""], [400, "皮肤科", "Dermatology", ""]]
    spec = write(tmp_path / "specialties.xlsx", header, rows)
    refused = zhupei(migrated, "import", spec)
    assert refused.code == 1
    assert "specialties.xlsx: not imported, nothing of it was applied" in refused.err
    assert 'specialties.xlsx, row 3: code "400" was stored as a number and lost its leading ' in (
        refused.err
    )
    assert "format the column as text" in refused.err and "'0400" in refused.err
    assert "专业代码“400”被存成了数字" in refused.err
    assert in_db(url, counts) == before
    assert "400" not in _codes(url, Specialty) and "0500" not in _codes(url, Specialty)

    # A plan naming the specialty by the number, and a CSV Excel wrote after showing 400.
    plans = write(
        tmp_path / "plans.xlsx",
        HEADERS["zh"][Kind.PLANS],
        [[BATCH, "GZ01", "0200", 4], [BATCH, "SZ01", 400, 2]],
    )
    refused = zhupei(migrated, "import", plans)
    assert refused.code == 1 and "specialty.unknown" not in refused.err
    assert 'row 3: specialty "400" was stored as a number' in refused.err
    csv_rows = [["0500", "眼科", "", ""], ["400", "皮肤科", "", ""]]
    refused = zhupei(migrated, "import", write(tmp_path / "专业.csv", header, csv_rows))
    assert refused.code == 1 and 'row 3: code "400" was stored as a number' in refused.err
    assert in_db(url, counts) == before
    planned = in_db(url, lambda s: s.scalars(select(Plan.planned).order_by(Plan.id)))
    assert list(planned) == [5, 3]

    # Number cells of one column with fewer digits than the others: zeros were dropped.
    numbers = [[3500, "重症医学科", "", ""], [600, "x", "", ""]]
    fresh = write(tmp_path / "专业2.xlsx", header, numbers)
    refused = zhupei(migrated, "import", fresh)
    assert refused.code == 1 and '"600" was stored as a number' in refused.err
    assert "'0600" in refused.err
    # Codes as text import as they are.
    text = write(tmp_path / "专业3.xlsx", header, [["0600", "外科", "", ""]])
    assert zhupei(migrated, "import", text).code == 0
    assert "0600" in _codes(url, Specialty)
