"""Staff lists of choices that typing filters (the same helper as the trainee's lists): the
specialties a base declares plans for, and the specialties and bases of a change request. The
number asked after a choice is answered as a number, not taken as a filter."""

from __future__ import annotations

from tests.staff.conftest import Console
from tests.staff.test_allocation_changes import confirmed
from tests.staff.test_plans import future_batch
from workflow.enums import PersonnelType


async def test_typing_filters_the_specialties_to_declare_then_the_number_is_asked(
    console: Console,
) -> None:
    batch = await future_batch(console)
    a = console.a.user
    await a.command("declare")
    await a.press(batch.name)
    assert a.last_bot_message().button("0100 内科") is not None
    await a.send("erke")  # 儿科 by its full pinyin
    found = a.last_bot_message()
    assert "🔎 筛选「erke」：1 项" in found.text
    assert found.button("0200 儿科") is not None and found.button("0100 内科") is None
    await a.press("0200 儿科")
    assert "请输入申报的计划数" in a.last_bot_message().text
    await a.send("内科")  # an answer to the question, not a filter of the list left behind
    assert "计划数必须是 0 到 999 之间的整数" in a.last_bot_message().text
    await a.send("4")
    assert "已申报：2027年住培招收（第一批） · 儿科 · 4 人" in a.last_bot_message().text


async def test_typing_filters_the_bases_and_specialties_of_a_change_request(
    console: Console,
) -> None:
    _t, app_id = await confirmed(console, "变更甲", PersonnelType.SOCIAL)
    a = console.a.user
    await a.command("changes")
    await a.press("➕ 新建申请")
    await a.press(f"#{app_id} 变更甲")
    await a.press("📝 学员信息变更")
    await a.press("主要基地")
    bases = a.last_bot_message()
    assert bases.button("广州市红十字会医院") is not None
    await a.send("深圳")
    found = a.last_bot_message()
    assert "🔎 筛选「深圳」：1 项" in found.text
    assert found.button("深圳市人民医院") is not None
    assert found.button("广州市红十字会医院") is None
    pressed = await a.press("✖ 显示全部")
    assert pressed.answer is not None
    assert a.last_bot_message().button("广州市红十字会医院") is not None
    await a.press("⬅️ 返回")
    await a.press("培训专业")
    await a.send("ek")
    found = a.last_bot_message()
    assert found.button("0200 儿科") is not None and found.button("0100 内科") is None
