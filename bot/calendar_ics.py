"""The user's deadlines (workflow.calendar) as an iCalendar file: times in Asia/Shanghai with the
zone's VTIMEZONE, one VEVENT per deadline with its stable UID, DISPLAY alarms before what must
be answered in time. A moment (a deadline) has no DTEND: RFC 5545 makes it end where it starts."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from icalendar import Alarm, Calendar, Event

from bot.i18n import Translator
from workflow.calendar import CalendarEvent

SHANGHAI = ZoneInfo("Asia/Shanghai")
UID_DOMAIN = "zhupei.bot"
PRODID = "-//zhupei//residency admission deadlines//ZH"


def _local(value: datetime | date) -> datetime | date:
    return value.astimezone(SHANGHAI) if isinstance(value, datetime) else value


def render(events: list[CalendarEvent], i18n: Translator, now: datetime) -> bytes:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", i18n("calendar.name"))
    cal.add("x-wr-timezone", str(SHANGHAI))
    stamp = now.astimezone(ZoneInfo("UTC")).replace(microsecond=0)
    for e in events:
        summary = i18n(f"calendar.event.{e.kind}", **e.params)
        event = Event()
        event.add("uid", f"{e.uid}@{UID_DOMAIN}")
        event.add("dtstamp", stamp)
        event.add("dtstart", _local(e.start))
        moment = e.start == e.end
        if not moment:
            event.add("dtend", _local(e.end))
        event.add("summary", summary)
        event.add("description", i18n(f"calendar.about.{e.kind}", **e.params))
        event.add("transp", "TRANSPARENT")
        for before in e.alarms:
            alarm = Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("description", summary)
            # Before the end of a window; a moment's end is its start.
            alarm.add("trigger", -before, parameters={} if moment else {"RELATED": "END"})
            event.add_component(alarm)
        cal.add_component(event)
    cal.add_missing_timezones()
    return cal.to_ical()
