"""`zhupei list`: the codes and names of the demo data, bases by city and then by pinyin,
searchable by part of a code, a name or its pinyin."""

from __future__ import annotations

from bot.config import Settings
from tests.cli.conftest import Zhupei


def _rows(out: str) -> list[list[str]]:
    return [line.split("\t") for line in out.splitlines()[1:-1]]


def test_lists_of_the_demo_data(zhupei: Zhupei, migrated: Settings) -> None:
    assert zhupei(migrated, "demo-data").code == 0

    cities = zhupei(migrated, "list", "cities")
    assert cities.code == 0 and cities.out.splitlines()[0] == "代码\t城市"
    assert _rows(cities.out)[0] == ["4401", "广州市"] and cities.out.endswith("共 21 条\n")

    bases = _rows(zhupei(migrated, "list", "bases").out)
    city_codes = [r[0][2:6] for r in bases if r[3] == "国家住培基地"]
    assert city_codes == sorted(city_codes)  # by city
    gz = [r[1] for r in bases if r[2] == "广州市" and r[3] == "国家住培基地"]
    # By pinyin (fù before rén), not by code point (人 U+4EBA before 妇 U+5987).
    assert (
        gz.index("广东省妇幼保健院") < gz.index("广东省人民医院") < gz.index("广州市第一人民医院")
    )
    assert ["GD440111", "广州市红十字会医院", "广州市", "国家住培基地", ""] in bases
    local = next(r for r in bases if r[3] == "地方住培基地" and r[4] == "GD440111")
    assert local[2] == "广州市"

    zs = _rows(zhupei(migrated, "list", "bases", "--search", "zs").out)
    assert zs and all("中山" in r[1] or "中山" in r[2] for r in zs)
    red_cross = _rows(zhupei(migrated, "list", "bases", "--search", "红十字").out)
    assert {r[0] for r in red_cross} >= {"GD440111"}
    skin = zhupei(migrated, "list", "specialties", "--search", "皮肤")
    assert _rows(skin.out) == [["0400", "皮肤科", "住院医师规范化培训"]]
    assert _rows(zhupei(migrated, "list", "specialties", "--search", "A07").out)[0][:2] == [
        "A0700",
        "助理全科",
    ]
    batches = _rows(zhupei(migrated, "list", "batches").out)
    assert len(batches) == 2 and {r[0] for r in batches} == {
        "住院医师规范化培训",
        "助理全科医师规范化培训",
    }
    assert all(r[3].endswith("17:00") for r in batches)  # the apply period ends 17:00 Shanghai

    nothing = zhupei(migrated, "list", "bases", "--search", "不存在的医院")
    assert nothing.code == 0 and nothing.out == "没有符合条件的记录\n"
    english = zhupei(migrated, "list", "cities", "--search", "4403", "--lang", "en")
    assert english.out == "code\tcity\n4403\t深圳市\n1 in all\n"
    assert zhupei(migrated, "list", "schools").code == 2
