"""The specialties a base declares plans for are a list that typing filters (the same helper as
the trainee's lists); the number asked next is answered as a number, not taken as a filter."""

from __future__ import annotations

from tests.staff.conftest import Console
from tests.staff.test_plans import future_batch


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
