"""Long lists of choices on the province's real reference data (the demo data set): national
bases by city and then by pinyin, and typing part of a name, or its pinyin, while a list is
shown filters it — in the application wizard and in the 民族 question."""

from __future__ import annotations

from reference import demo_data
from tests.harness import BotHarness
from workflow.search import matches, pinyin_key


def test_matching_on_characters_full_pinyin_and_initials() -> None:
    assert matches("红十字", "广州市红十字会医院")
    assert matches("hongshizi", "广州市红十字会医院")  # full pinyin from a syllable's start
    assert matches("GZSHSZ", "广州市红十字会医院")  # the initials it begins with
    assert matches("中山 大学", "中山大学附属第一医院")
    assert not matches("十", "广州市人民医院")  # characters match characters, not their sound
    assert not matches("hszx", "广州市红十字会医院")
    assert sorted(["中山市人民医院", "佛山市第一人民医院", "东莞市人民医院"], key=pinyin_key) == [
        "东莞市人民医院",
        "佛山市第一人民医院",
        "中山市人民医院",
    ]


async def to_the_base_step(app: BotHarness, trainee, user_id: int):  # type: ignore[no-untyped-def]
    async with app.ctx() as ctx:
        await demo_data.load(ctx)
    user, _ = await trainee(user_id)
    await user.command("apply")
    (batch,) = [r[0] for r in user.last_bot_message().buttons if "住院医师规范化培训" in r[0]]
    await user.press(batch)
    await user.press("面向社会招收住院医师")
    await user.press("✅ 信息无误，下一步")
    await user.press("应届毕业生：是")
    await user.press("未取得医师资格证书")
    await user.press("下一步 ▶️")
    return user


async def test_typing_filters_the_specialties_and_the_bases_of_the_wizard(
    app: BotHarness,
    trainee,  # type: ignore[no-untyped-def]
) -> None:
    user = await to_the_base_step(app, trainee, 7401)
    specialties = user.last_bot_message()
    assert "第 5/6 步：选择拟培训专业" in specialties.text
    assert "输入名称的一部分" in specialties.text  # the list is long: typing is offered
    await user.send("内科")
    found = user.last_bot_message()
    labels = [b for row in found.buttons for b in row]
    assert "🔎 筛选「内科」" in found.text
    assert {"内科", "神经内科", "口腔内科"} <= {label.split(" ")[0] for label in labels}
    assert not any(label.startswith("儿科") for label in labels)
    pressed = await user.press("✖ 显示全部")
    assert pressed.answer is not None  # the press is answered
    assert "🔎 筛选" not in user.last_bot_message().text
    await user.send("xyzxyz")
    assert "没有与「xyzxyz」匹配的选项" in user.last_bot_message().text
    await user.send("nk")  # initials of 内科
    await user.press("内科")

    bases = user.last_bot_message()
    assert "第 5/6 步：选择国家住培基地" in bases.text
    names = [row[0].split(" · ")[0] for row in bases.buttons if " · 计划 " in row[0]]
    # Guangzhou (4401) first, its bases by pinyin: 广东省… before 广州市… before 中山大学…
    assert names[0].startswith("广东省")
    assert names == sorted(names, key=pinyin_key)
    assert not any(n.startswith(("东莞", "佛山", "深圳")) for n in names)

    await user.send("红十字")
    filtered = user.last_bot_message()
    assert "🔎 筛选「红十字」：1 项" in filtered.text
    hits = [row[0] for row in filtered.buttons if " · 计划 " in row[0]]
    assert len(hits) == 1 and hits[0].startswith("广州市红十字会医院 · 计划 ")
    # the pinyin initials find it too; a city's name finds its bases
    for typed in ("gzshsz", "hongshizi"):
        await user.send(typed)
        hits = hits_of(user)
        assert len(hits) == 1 and hits[0].startswith("广州市红十字会医院"), typed
    await user.send("深圳")
    hits = hits_of(user)
    assert len(hits) >= 2 and all("深圳" in h for h in hits)
    await user.send("红十字")
    await user.press(hits_of(user)[0])
    assert "第 5/6 步：选择地方住培基地" in user.last_bot_message().text


def hits_of(user) -> list[str]:  # type: ignore[no-untyped-def]
    return [r[0] for r in user.last_bot_message().buttons if " · 计划 " in r[0]]


async def test_typing_filters_the_ethnicities_and_an_answer_is_kept(
    app: BotHarness,
    trainee,  # type: ignore[no-untyped-def]
) -> None:
    user, _ = await trainee(7402, complete=False)
    await user.command("profile")
    await user.press("➡️ 去完善")
    question = user.last_bot_message()
    assert "请选择<b>民族</b>" in question.html and "输入名称的一部分" in question.text
    await user.send("维吾尔")
    found = user.last_bot_message()
    labels = [b for row in found.buttons for b in row]
    assert "维吾尔族" in labels and "汉族" not in labels
    await user.send("zz")  # 壮族, 藏族 by their initials
    labels = [b for row in user.last_bot_message().buttons for b in row]
    assert {"壮族", "藏族"} <= set(labels)
    await user.press("壮族")
    assert "民族：壮族" in user.last_bot_message().text
    # the list is gone: typed text filters nothing any more
    await user.send("汉")
    assert "🔎" not in user.last_bot_message().text
