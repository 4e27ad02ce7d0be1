"""/calendar: the user's own deadlines as an .ics file, parsed back with icalendar: the expected
events in Asia/Shanghai time with their alarms, and the same UIDs in a file downloaded again
after a change (a calendar then replaces its events instead of adding copies)."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

from bot.emulator import ScriptedUser
from tests import factories
from tests.staff.conftest import Console, trainee
from workflow import admission, results

SHANGHAI = ZoneInfo("Asia/Shanghai")


def downloaded(user: ScriptedUser) -> Calendar:
    message = user.last_bot_message()
    assert message.document is not None, message
    assert message.document.file_name == "zhupei-deadlines.ics"
    assert "📅" in (message.text or "")
    return Calendar.from_ical(message.document.data)


def events(cal: Calendar) -> dict[str, Event]:
    return {str(e["summary"]): e for e in cal.walk("VEVENT")}


def triggers(event: Event) -> list[tuple[timedelta, str | None]]:
    return [
        (a.decoded("trigger"), a["trigger"].params.get("RELATED")) for a in event.walk("VALARM")
    ]


def assert_shanghai(event: Event, key: str) -> None:
    value = event.decoded(key)
    assert value.tzinfo is not None and str(value.tzinfo) == "Asia/Shanghai", value
    assert event[key].params["TZID"] == "Asia/Shanghai"


async def test_trainee_calendar_has_the_deadlines_with_alarms_and_keeps_its_uids(
    console: Console,
) -> None:
    app, w = console.app, console.world
    t = await trainee(app, name="日历甲", tg=7501)
    user = app.user(7501)
    async with app.ctx() as ctx:
        sent = await factories.sent(ctx, w, t)

    await user.command("calendar")
    first = downloaded(user)
    assert "（2 项，北京时间）" in user.last_bot_message().text
    zones = [str(z["tzid"]) for z in first.walk("VTIMEZONE")]
    assert zones == ["Asia/Shanghai"]
    found = events(first)
    apply_end = found[f"报名截止：{w.batch.name}"]
    window = found["确认录取结果：广州市红十字会医院 内科"]
    assert_shanghai(apply_end, "dtstart")
    assert apply_end.decoded("dtstart") == w.batch.apply_end.astimezone(SHANGHAI)
    assert "dtend" not in apply_end and triggers(apply_end) == []  # submitted: nothing to do
    assert_shanghai(window, "dtstart")
    assert_shanghai(window, "dtend")
    assert window.decoded("dtstart") == sent.acceptable_at.astimezone(SHANGHAI)  # type: ignore[union-attr]
    assert window.decoded("dtend") == sent.deadline_at.astimezone(SHANGHAI)  # type: ignore[union-attr]
    # the wall-clock time is written in Beijing time, not UTC
    local = sent.deadline_at.astimezone(SHANGHAI).strftime("%Y%m%dT%H%M%S")  # type: ignore[union-attr]
    assert f"DTEND;TZID=Asia/Shanghai:{local}" in first.to_ical().decode()
    assert sorted(triggers(window)) == [
        (timedelta(hours=-24), "END"),
        (timedelta(hours=-2), "END"),
    ]
    uids = {str(e["uid"]) for e in first.walk("VEVENT")}
    assert len(uids) == len(found) == 2

    # the trainee accepts after the lock period, and the base records the check-in
    async with app.ctx() as ctx:
        app.clock.advance(hours=13)
        await results.accept(ctx, t, sent.id)  # type: ignore[arg-type]
        await admission.confirm_result(ctx, w.city_gz, sent.id)  # type: ignore[arg-type]
        await admission.check_in(ctx, w.staff_a, sent.id, True)  # type: ignore[arg-type]

    # the status card offers the same file
    await user.command("status")
    await user.press("📅 加入日历")
    second = downloaded(user)
    again = events(second)
    assert {str(e["uid"]) for e in second.walk("VEVENT")} >= uids
    window = again["确认录取结果：广州市红十字会医院 内科"]
    assert triggers(window) == []  # answered: no alarm any more
    assert "已报到：广州市红十字会医院 内科" in again


async def test_base_calendar_has_the_batch_periods_and_the_lock_ends_of_its_results(
    console: Console,
) -> None:
    app, w = console.app, console.world
    async with app.ctx() as ctx:
        one = await factories.sent(ctx, w, await factories.make_trainee(ctx, name="锁定甲"))
        two = await factories.sent(ctx, w, await factories.make_trainee(ctx, name="锁定乙"))
        other_base = await factories.sent(
            ctx, w, await factories.make_trainee(ctx, name="深圳丙"), base=w.base_b
        )
    a = console.a.user
    await a.command("calendar")
    cal = downloaded(a)
    found = events(cal)
    lock = found[f"锁定期结束：2 条录取结果（{w.batch.name}）"]
    assert_shanghai(lock, "dtstart")
    expected = (one.sent_at + timedelta(hours=w.batch.lock_hours)).astimezone(SHANGHAI)  # type: ignore[operator]
    assert lock.decoded("dtstart") == expected
    assert triggers(lock) == [(timedelta(hours=-1), None)]
    apply_period = found[f"报名周期：{w.batch.name}"]
    confirm = found[f"学员确认周期：{w.batch.name}"]
    assert apply_period.decoded("dtstart") == w.batch.apply_start.astimezone(SHANGHAI)
    assert apply_period.decoded("dtend") == w.batch.apply_end.astimezone(SHANGHAI)
    assert confirm.decoded("dtend") == w.batch.confirm_end.astimezone(SHANGHAI)
    assert len(found) == 3  # base B's result is not base A's deadline
    assert other_base.base_id == w.base_b.id

    # one result is cancelled inside the lock period: the same event, now with one result
    async with app.ctx() as ctx:
        await admission.cancel_admission(ctx, w.staff_a, two.id)  # type: ignore[arg-type]
    await a.command("calendar")
    again = downloaded(a)
    lock_again = events(again)[f"锁定期结束：1 条录取结果（{w.batch.name}）"]
    assert str(lock_again["uid"]) == str(lock["uid"])
    assert {str(e["uid"]) for e in again.walk("VEVENT")} == {
        str(e["uid"]) for e in cal.walk("VEVENT")
    }

    # the city's reviewer gets the batch's periods
    await console.gz.user.command("calendar")
    assert set(events(downloaded(console.gz.user))) == {
        f"报名周期：{w.batch.name}",
        f"学员确认周期：{w.batch.name}",
    }
