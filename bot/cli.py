"""`zhupei`: the administrator's command line.

    zhupei run                                  start the bot
    zhupei db upgrade | db current              migrate the schema / show its revision
    zhupei import FILE... [--kind KIND]         load reference data from .xlsx or .csv
    zhupei import --template KIND [--out FILE]  an .xlsx to fill in, with rules and codes
    zhupei list bases|cities|specialties|batches [--search TEXT]   codes and names
    zhupei invite --role base|city|province --name NAME [--base CODE] [--city CODE]
    zhupei demo-data                            a realistic data set and three invitations
    zhupei handover [--out DIR]                 records changed since the last hand-over
    zhupei staff list | disable ID | enable ID | reinvite ID   staff accounts
    zhupei db backup PATH | db restore PATH     a copy of the database / load one
    zhupei keys new | rotate | status           the encryption keys of personal data

Settings come from the environment (DATABASE_URL, DATA_DIR, BOT_TOKEN, …; see
`bot.config`). Commands other than `db` refuse a database whose schema is not at the revision of
this code. Exit status: 0 done, 1 refused (the reason is on stderr), 2 bad usage.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import logging
import sys
from collections.abc import Callable
from datetime import datetime, timedelta

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from bot import cli_backup, cli_keys, cli_offices
from bot.config import Settings
from bot.keys import load_cipher
from reference.importer import ImportFailed, Kind, Table, import_table, infer_kind, read_file
from storage import migrate
from storage.backup import BackupError
from storage.crypto import KeyConfigError
from storage.db import Database
from storage.models import Base, City
from workflow.clock import SystemClock
from workflow.context import Ctx
from workflow.enums import BaseKind, Role
from workflow.errors import DomainError

ROLE_LABELS = {Role.BASE: "base staff", Role.CITY: "city reviewer", Role.PROVINCE: "province"}


class UserError(Exception):
    """A refusal to report in one line, without a traceback."""


class UsageError(Exception):
    """Arguments that parse but do not fit together."""


# --- helpers ---------------------------------------------------------------------------------


def _safe_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def _ctx(session: AsyncSession, settings: Settings) -> Ctx:
    return Ctx(
        session=session,
        clock=SystemClock(),
        cipher=load_cipher(settings),
        upload_dir=settings.upload_dir,
        max_upload_bytes=settings.max_upload_bytes,
    )


def deep_link(username: str | None, token: str) -> str:
    """The invitation as a t.me link, or as the command to send when the bot's name is unknown."""
    return f"https://t.me/{username}?start={token}" if username else f"/start {token}"


UNKNOWN_BOT = (
    "This bot's t.me link is not known: there is no BOT_TOKEN to ask Telegram (getMe) with, or "
    "Telegram did not answer, and no bot with this token has run on this database yet. Send the "
    "command above to the bot in Telegram, or run this again with BOT_TOKEN set."
)


async def _bot_username(settings: Settings, db: Database) -> str | None:
    from bot.username import for_links

    return await for_links(settings, db, SystemClock())


def _local_time(settings: Settings, moment: datetime) -> str:
    return f"{moment.astimezone(settings.tz):%Y-%m-%d %H:%M} ({settings.timezone})"


async def _open(settings: Settings) -> Database:
    """The app's database, once its schema is known to be current."""
    url = settings.resolved_database_url
    await migrate.ensure_current_async(url)
    return Database(url)


# --- run and db ------------------------------------------------------------------------------


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    current = migrate.current_revision(settings.resolved_database_url)
    problem = migrate.describe(current)
    # The sandbox (no BOT_TOKEN) upgrades its own database in bot.runner; a database migrated
    # by newer code is refused there too.
    upgradable = current is None or current in migrate.known_revisions()
    if problem and not (settings.sandbox and upgradable):
        raise migrate.SchemaNotCurrent(problem)
    try:
        from bot import runner
    except ModuleNotFoundError as exc:
        if exc.name in {"bot.runner", "bot"}:
            raise UserError("the bot runner (bot.runner) is not available") from exc
        raise
    if getattr(args, "terminal", False):
        settings = settings.model_copy(update={"sandbox_terminal": True})
    result = runner.run(settings)
    if inspect.isawaitable(result):
        asyncio.run(result)  # type: ignore[arg-type]
    return 0


def cmd_db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    url = settings.resolved_database_url
    before = migrate.current_revision(url)
    if before is not None and before not in migrate.known_revisions():
        raise UserError(migrate.describe(before) or "")
    if before is None and migrate.table_names(url):
        raise UserError(
            "The database has tables but no migration revision: it was not created by "
            "`zhupei db upgrade`. Use an empty database (or back this one up and empty it)."
        )
    migrate.upgrade(url)
    after = migrate.current_revision(url)
    if before == after:
        print(f"{_safe_url(url)}: already at revision {after} (head)")
    else:
        print(f"{_safe_url(url)}: upgraded from {before or 'an empty database'} to {after} (head)")
    return 0


def cmd_db_current(args: argparse.Namespace, settings: Settings) -> int:
    url = settings.resolved_database_url
    current = migrate.current_revision(url)
    print(f"database: {_safe_url(url)}")
    print(f"current:  {current or 'none'}")
    print(f"head:     {migrate.head_revision()}")
    problem = migrate.describe(current)
    print(problem or "The schema is up to date.")
    return 0


# --- import ----------------------------------------------------------------------------------


def _report_failure(failure: ImportFailed) -> None:
    sources = dict.fromkeys(e.source for e in failure.errors)
    for source in sources:
        print(
            f"{source}: not imported, nothing of it was applied / 未导入，文件内容均未写入",
            file=sys.stderr,
        )
    for error in failure.errors:
        print(f"  {error}", file=sys.stderr)


async def _import(args: argparse.Namespace, settings: Settings) -> int:
    tables: list[tuple[Kind, Table]] = []
    failed = 0
    for path in args.files:
        try:
            table = read_file(path)
            tables.append((Kind(args.kind) if args.kind else infer_kind(table), table))
        except ImportFailed as failure:
            _report_failure(failure)
            failed += 1
    order = list(Kind)
    tables.sort(key=lambda item: order.index(item[0]))  # cities before bases before plans…
    db = await _open(settings)
    clock = SystemClock()
    try:
        for kind, table in tables:
            try:
                async with db.transaction() as session:
                    result = await import_table(session, table, kind, now=clock.now())
            except ImportFailed as failure:
                _report_failure(failure)
                failed += 1
            else:
                print(result)
    finally:
        await db.dispose()
    if failed:
        raise UserError(f"{failed} of {len(args.files)} file(s) not imported")
    return 0


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    if args.template:
        if args.files or args.kind:
            raise UsageError("--template KIND writes a template: name no files and no --kind")
        return cli_offices.write_template(args, settings)
    if not args.files:
        raise UsageError("name the files to import, or --template KIND")
    if args.out or args.lang:
        raise UsageError("--out and --lang go with --template")
    return asyncio.run(_import(args, settings))


# --- invite ----------------------------------------------------------------------------------


def _check_invite_args(args: argparse.Namespace) -> Role:
    role = Role(args.role)
    if role is Role.BASE and not args.base:
        raise UsageError("--role base needs --base CODE")
    if role is Role.CITY and not args.city:
        raise UsageError("--role city needs --city CODE")
    if args.base and role is not Role.BASE:
        raise UsageError("--base goes with --role base only")
    if args.city and role is not Role.CITY:
        raise UsageError("--city goes with --role city only")
    if not args.name.strip() or len(args.name.strip()) > 64:
        raise UsageError("--name must be 1 to 64 characters")
    if args.ttl_hours is not None and not 1 <= args.ttl_hours <= 24 * 30:
        raise UsageError("--ttl-hours must be from 1 to 720")
    return role


async def _invite(args: argparse.Namespace, settings: Settings, role: Role) -> int:
    from workflow.accounts import invite_staff

    ttl = timedelta(hours=args.ttl_hours or settings.invitation_ttl_hours)
    db = await _open(settings)
    try:
        username = await _bot_username(settings, db)
        async with db.transaction() as session:
            ctx = _ctx(session, settings)
            base_id = city_id = None
            scope = ""
            if args.base:
                base = await session.scalar(select(Base).where(Base.code == args.base))
                if base is None:
                    raise UserError(f"no base with code {args.base!r}")
                if BaseKind(base.kind) is not BaseKind.NATIONAL:
                    raise UserError(
                        f"{args.base} is a local base: base staff belong to its national base"
                    )
                base_id, scope = base.id, f", {base.name} {base.code}"
            if args.city:
                city = await session.scalar(
                    select(City).where((City.code == args.city) | (City.name == args.city))
                )
                if city is None:
                    raise UserError(f"no city with code or name {args.city!r}")
                city_id, scope = city.id, f", {city.name} {city.code}"
            account, token = await invite_staff(
                ctx, role, args.name, base_id=base_id, city_id=city_id, ttl=ttl
            )
            expires = ctx.now() + ttl
    finally:
        await db.dispose()
    print(f"Invitation for {account.display_name} ({ROLE_LABELS[role]}{scope}):")
    print(deep_link(username, token))
    print(f"One-time link, valid until {_local_time(settings, expires)}.")
    if username is None:
        print(UNKNOWN_BOT)
    return 0


def cmd_invite(args: argparse.Namespace, settings: Settings) -> int:
    role = _check_invite_args(args)
    return asyncio.run(_invite(args, settings, role))


# --- demo data -------------------------------------------------------------------------------


async def _demo(settings: Settings) -> int:
    from reference import demo_data

    db = await _open(settings)
    try:
        username = await _bot_username(settings, db)
        async with db.transaction() as session:
            report = await demo_data.load(
                _ctx(session, settings), ttl=timedelta(hours=settings.invitation_ttl_hours)
            )
    finally:
        await db.dispose()
    if report.already_there:
        print("The demo data is already there: nothing was added.")
    else:
        for result in report.imports:
            print(result)
        print("Demo data loaded.")
    print("Invitations (one-time links):")
    for invite in report.invites:
        role = Role(invite.account.role)
        print(f"  {ROLE_LABELS[role]:<14} {invite.account.display_name}")
        print(f"  {'':<14} {deep_link(username, invite.token)}")
    if report.invites:
        print(f"Valid until {_local_time(settings, report.invites[0].expires_at)}.")
        if username is None:
            print(UNKNOWN_BOT.replace("command above", "commands above"))
    return 0


def cmd_demo_data(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(_demo(settings))


# --- handover (the staff consoles' bot.handover) ---------------------------------------------


async def _handover(args: argparse.Namespace, settings: Settings) -> int:
    from pathlib import Path

    from bot.handover import run_handover

    out = Path(args.out) if args.out else settings.data_dir / "handover"
    db = await _open(settings)
    try:
        async with db.transaction() as session:
            files = await run_handover(_ctx(session, settings), None, out)
    finally:
        await db.dispose()
    since = _local_time(settings, files.since) if files.since else "the beginning"
    until = _local_time(settings, files.until)
    print(f"Hand-over of {files.rows} changed record(s), {since} to {until}:")
    print(f"  {files.xlsx}")
    print(f"  {files.json}")
    return 0


def cmd_handover(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(_handover(args, settings))


# --- parser and entry point ------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="zhupei", description="The residency-training admission bot and its administration."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="start the bot")
    run.set_defaults(handler=cmd_run, quiet_logging=False)
    run.add_argument("--terminal", action="store_true", help="sandbox: a terminal chat too")

    db = sub.add_parser("db", help="the database schema")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_sub.add_parser("upgrade", help="migrate to the latest revision").set_defaults(
        handler=cmd_db_upgrade
    )
    db_sub.add_parser("current", help="show the revision of the database").set_defaults(
        handler=cmd_db_current
    )
    cli_backup.register(db_sub)
    cli_keys.register(sub)

    from bot.import_template import columns_help

    imp = sub.add_parser(
        "import",
        help="import reference data from .xlsx or .csv files",
        description=(
            "Import .xlsx (first sheet) or .csv (UTF-8, GBK or GB18030) files; a title or note "
            "row above the header is skipped. Every row is checked first: one bad row and "
            "nothing of its file is applied. Codes are text: a code that lost its leading zeros "
            "in a number cell is refused."
        ),
        epilog=columns_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    imp.add_argument("files", nargs="*", metavar="FILE")
    imp.add_argument(
        "--kind",
        choices=[k.value for k in Kind],
        help="what the files hold (default: from each file's name, else its header)",
    )
    imp.add_argument(
        "--template",
        metavar="KIND",
        choices=[k.value for k in Kind],
        help="write an .xlsx template of this kind instead: header, example, rules, valid codes",
    )
    imp.add_argument(
        "--out", metavar="FILE", help="the template's path (default: KIND-template.xlsx)"
    )
    imp.add_argument("--lang", choices=["zh-CN", "en"], help="the template's language (zh-CN)")
    imp.set_defaults(handler=cmd_import, parser=imp)
    cli_offices.add_list_parser(sub)

    inv = sub.add_parser("invite", help="create a staff account and its one-time invitation link")
    inv.add_argument("--role", required=True, choices=[r.value for r in ROLE_LABELS])
    inv.add_argument("--name", required=True, help="the person's name as the bot shows it")
    inv.add_argument("--base", metavar="CODE", help="national base code (role base)")
    inv.add_argument("--city", metavar="CODE", help="city code or name (role city)")
    inv.add_argument("--ttl-hours", type=int, help="validity (default: INVITATION_TTL_HOURS)")
    inv.set_defaults(handler=cmd_invite, parser=inv)

    demo = sub.add_parser("demo-data", help="load a demo data set and invite demo staff")
    demo.set_defaults(handler=cmd_demo_data)

    from bot import staff_cli

    staff_cli.add_parser(sub)

    hand = sub.add_parser("handover", help="export records changed since the last hand-over")
    hand.add_argument("--out", metavar="DIR", help="where to write (default: DATA_DIR/handover)")
    hand.set_defaults(handler=cmd_handover)
    return parser


def main(argv: list[str] | None = None, *, settings: Settings | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or bad usage (2)
        return int(exc.code or 0)
    handler: Callable[[argparse.Namespace, Settings], int] = args.handler
    if getattr(args, "quiet_logging", True):
        logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    try:
        settings = settings or Settings()
    except ValidationError as exc:
        print(f"zhupei: invalid settings: {exc}", file=sys.stderr)
        return 1
    try:
        return handler(args, settings)
    except UsageError as exc:
        try:
            getattr(args, "parser", parser).error(str(exc))
        except SystemExit as usage:
            return int(usage.code or 2)
    except (
        UserError,
        cli_offices.Refused,
        migrate.SchemaNotCurrent,
        KeyConfigError,
        BackupError,
    ) as exc:
        print(f"zhupei: {exc}", file=sys.stderr)
    except ImportFailed as exc:
        _report_failure(exc)
    except DomainError as exc:
        print(f"zhupei: refused: {exc.code} {exc.params or ''}".rstrip(), file=sys.stderr)
    except (OperationalError, InterfaceError) as exc:
        url = _safe_url(settings.resolved_database_url)
        print(f"zhupei: database error on {url}: {exc.orig}", file=sys.stderr)
    except OSError as exc:  # e.g. the PostgreSQL server refused the connection
        print(f"zhupei: {exc}", file=sys.stderr)
    except KeyboardInterrupt:
        return 130
    return 1


if __name__ == "__main__":
    sys.exit(main())
