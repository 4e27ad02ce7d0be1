"""Time left before a deadline, as every screen and notice says it: to the minute, the largest
two units (2 天 3 小时 · 1 小时 25 分 · 12 分钟). Minutes are rounded to the nearest one, so a
reminder sent a few seconds after its hour still says "15 小时"."""

from __future__ import annotations

from datetime import timedelta

from bot.i18n import Translator

DAY = 24 * 60


def time_left(i18n: Translator, delta: timedelta) -> str:
    seconds = delta.total_seconds()
    minutes = max(0, round(seconds / 60))
    if seconds > 0:
        minutes = max(minutes, 1)
    if minutes >= DAY:
        days, rest = divmod(minutes, DAY)
        hours = round(rest / 60)
        if hours == 24:
            days, hours = days + 1, 0
        if hours:
            return i18n("common.left.days_hours", d=days, h=hours)
        return i18n("common.left.days", d=days)
    hours, mins = divmod(minutes, 60)
    if hours and mins:
        return i18n("common.left.hours_minutes", h=hours, m=mins)
    if hours:
        return i18n("common.left.hours", h=hours)
    return i18n("common.left.minutes", m=mins)
