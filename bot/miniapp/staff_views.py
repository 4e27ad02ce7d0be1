"""What the staff page shows of each queue: its columns, which of them sort, its status
filter, its rows as JSON and the texts, all from the chat's locale files."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bot.exports import plain
from bot.i18n import Translator, catalog
from workflow.enums import Role
from workflow.queues import (
    APP_ORDER,
    TRAINING_ORDER,
    VIEW_EXTRA,
    AppRow,
    TrainingRow,
    View,
    actions_for,
)

TEXT_MAX = 30  # the chat's search keeps as much
# view → its columns, in order; "acts" holds the row's buttons
COLUMNS: dict[str, tuple[str, ...]] = {
    "pre": ("id", "name", "tail", "specialty", "status", "submitted_at", "acts"),
    "adm": ("id", "name", "tail", "specialty", "status", "sent_at", "acts"),
    "cnf": ("id", "name", "tail", "specialty", "base", "status", "acts"),
    "chk": ("id", "name", "tail", "specialty", "status", "checkin", "acts"),
    "yrs": ("id", "name", "tail", "specialty", "years", "start", "end", "acts"),
}
VIEWS = tuple(COLUMNS)
ROLE_VIEWS: dict[Role, tuple[str, ...]] = {
    Role.BASE: ("pre", "adm", "chk", "yrs"),
    Role.CITY: ("cnf",),
    Role.PROVINCE: ("cnf",),
}
YEARS_EXTRA = ("1", "2", "3")


def extras_of(view: str) -> tuple[str, ...]:
    return YEARS_EXTRA if view == "yrs" else VIEW_EXTRA[View(view)]


def views_of(role: Role, i18n: Translator) -> list[dict[str, Any]]:
    out = []
    for view in ROLE_VIEWS.get(role, ()):
        order = TRAINING_ORDER if view == "yrs" else APP_ORDER
        out.append(
            {
                "id": view,
                "title": plain(i18n(f"staff.menu.item.{view}")),
                "hint": plain(i18n(f"staff.list.hint.{view}")),
                "columns": [
                    {
                        "id": c,
                        "label": i18n(f"miniapp_staff.col.{c}"),
                        "sort": c in order,
                    }
                    for c in COLUMNS[view]
                ],
                "extras": [
                    {"id": x, "label": i18n(f"staff.lbl.extra.{x}")} for x in extras_of(view)
                ],
                "select": view == "adm",
            }
        )
    return out


def parse_filter(view: str, query: Mapping[str, str]) -> dict[str, Any]:
    """The list's filter from a request (the chat's keys: b s q x o); a value that is not one
    of the list's choices is left out, as if not given."""

    def number(key: str) -> int | None:
        raw = str(query.get(key) or "")
        return int(raw) if raw.isdigit() and int(raw) > 0 else None

    text = str(query.get("q") or "").strip()[:TEXT_MAX] or None
    extra = str(query.get("x") or "") or None
    if extra not in extras_of(view):
        extra = None
    order = str(query.get("o") or "") or None
    keys = TRAINING_ORDER if view == "yrs" else APP_ORDER
    if order is not None and order.lstrip("-") not in keys:
        order = None
    return {"b": number("b"), "s": number("s"), "q": text, "x": extra, "o": order}


def _when(i18n: Translator, value: datetime | None) -> str:
    return i18n.datetime(value) if value else ""


def app_row_json(row: AppRow, view: View, i18n: Translator, now: datetime) -> dict[str, Any]:
    acts = actions_for(row, view, now)
    return {
        "id": row.id,
        "name": row.name,
        "tail": row.masked_tail,
        "specialty": row.specialty_name or "—",
        "base": row.base_name or "—",
        "status": row.status,
        "status_label": i18n.label("status", row.status),
        "submitted_at": _when(i18n, row.submitted_at),
        "sent_at": _when(i18n, row.sent_at) or i18n("staff.list.not_sent"),
        "checkin": i18n(f"staff.lbl.checkin.{row.checkin or 'none'}"),
        "selectable": view is View.ADM and "snd" in acts,
        "acts": [{"id": a, "label": i18n(f"staff.card.do.{a}")} for a in acts],
    }


def training_row_json(row: TrainingRow, i18n: Translator) -> dict[str, Any]:
    years = i18n("staff.years.years_n", n=row.duration_years) if row.duration_years else "—"
    return {
        "id": row.id,
        "name": row.name,
        "tail": f"****{row.id_tail}",
        "specialty": row.specialty_name or "—",
        "years": years,
        "duration": row.duration_years,
        "start": row.start_date.isoformat() if row.start_date else "",
        "end": row.end_date.isoformat() if row.end_date else "",
        "acts": [{"id": "years", "label": i18n("staff.years.set")}],
    }


# Families of the chat's texts the page shows; all are plain text there.
PAGE_TEXTS = (
    "miniapp_staff.",
    "staff.list.",
    "staff.done.",
    "staff.card.do.",
    "staff.stats.",
    "common.",
)


def texts(i18n: Translator) -> dict[str, str]:
    """The page's texts in the user's language, tags removed (the page sets them as text);
    placeholders such as {n} stay for the page to fill."""
    keys = [k for k in catalog("zh-CN") if k.startswith(PAGE_TEXTS)]
    return {k: plain(i18n(k)) for k in keys}
