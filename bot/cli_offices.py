"""What an office needs at the command line besides importing: the codes (`zhupei list`) and
the import templates (`zhupei import --template KIND`).

    zhupei list bases | cities | specialties | batches [--search TEXT]
    zhupei import --template KIND [--out FILE] [--lang zh-CN|en]
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.i18n import LOCALES, Translator
from reference.importer import Kind
from storage import migrate
from storage.db import Database
from workflow import reference_lists

T = TypeVar("T")
LISTS = ("bases", "cities", "specialties", "batches")


class Refused(Exception):
    """A refusal the command line reports in one line."""


async def _read(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    url = settings.resolved_database_url
    await migrate.ensure_current_async(url)
    db = Database(url)
    try:
        async with db.transaction() as session:
            return await work(session)
    finally:
        await db.dispose()


# --- zhupei list -----------------------------------------------------------------------------


async def list_lines(
    session: AsyncSession, what: str, search: str | None, i18n: Translator
) -> list[str]:
    """The header line and one tab-separated line per code."""
    lines: list[str] = [i18n(f"offices.list.{what}")]
    if what == "cities":
        lines += [f"{c.code}\t{c.name}" for c in await reference_lists.cities(session, search)]
    elif what == "bases":
        for b in await reference_lists.bases(session, search):
            kind = i18n(f"offices.list.kind.{b.kind.value}")
            lines.append(f"{b.code}\t{b.name}\t{b.city_name}\t{kind}\t{b.national_code or ''}")
    elif what == "specialties":
        for s in await reference_lists.specialties(session, search):
            lines.append(f"{s.code}\t{s.name}\t{i18n.label('program', s.details[0])}")
    else:
        for b in await reference_lists.batches(session, search):
            apply = f"{i18n.datetime(b.apply_start)} – {i18n.datetime(b.apply_end)}"
            confirm = f"{i18n.datetime(b.confirm_start)} – {i18n.datetime(b.confirm_end)}"
            program = i18n.label("program", b.program)
            lines.append(f"{program}\t{b.name}\t{b.cohort_year}\t{apply}\t{confirm}")
    return lines


def cmd_list(args: argparse.Namespace, settings: Settings) -> int:
    i18n = Translator(args.lang, settings.tz)
    lines = asyncio.run(_read(settings, lambda s: list_lines(s, args.what, args.search, i18n)))
    if len(lines) == 1:
        print(i18n("offices.list.none"))
        return 0
    for line in lines:
        print(line)
    print(i18n("offices.list.count", count=len(lines) - 1))
    return 0


# --- zhupei import --template ----------------------------------------------------------------


def write_template(args: argparse.Namespace, settings: Settings) -> int:
    from bot.import_template import template_xlsx, valid_codes

    kind = Kind(args.template)
    out = Path(args.out) if args.out else Path(f"{kind.value}-template.xlsx")
    if out.suffix.lower() != ".xlsx":
        raise Refused(f"{out}: a template is an .xlsx file")
    if out.exists():
        raise Refused(f"{out} exists: remove it or name another file with --out")
    codes = asyncio.run(_read(settings, lambda s: valid_codes(s, kind)))
    out.write_bytes(template_xlsx(kind, codes, args.lang or "zh-CN"))
    print(f"{out}: the {kind.value} template (header, one example row; rules and codes on sheet 2)")
    return 0


def add_list_parser(sub: Any) -> None:
    """Adds `list` to the `zhupei` parser's subcommands."""
    lst = sub.add_parser("list", help="the codes and names of bases, cities, specialties, batches")
    lst.add_argument("what", choices=LISTS)
    lst.add_argument(
        "--search", metavar="TEXT", help="part of a code or a name, or its pinyin (zs: 中山)"
    )
    lst.add_argument("--lang", choices=LOCALES, default="zh-CN", help="language of the labels")
    lst.set_defaults(handler=cmd_list)
