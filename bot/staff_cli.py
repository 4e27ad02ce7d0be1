"""`zhupei staff list | disable ID | enable ID | reinvite ID`: the operator's view of the staff
accounts. The rules are `workflow.staff_accounts`'; the operator is the actor `None`."""

from __future__ import annotations

import argparse
import asyncio
import sys
import unicodedata
from datetime import timedelta
from typing import Any

from bot import cli
from bot.config import Settings
from bot.i18n import Translator
from storage.models import TelegramUser
from workflow import staff_accounts
from workflow.enums import Role
from workflow.errors import DomainError


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


async def _list(settings: Settings) -> int:
    db = await cli._open(settings)
    try:
        async with db.transaction() as session:
            rows = await staff_accounts.list_staff(cli._ctx(session, settings), None)
    finally:
        await db.dispose()
    if not rows:
        print("No staff accounts yet: `zhupei invite` creates one.")
        return 0
    table = [("id", "role", "name", "base/city", "active", "bound")]
    for r in rows:
        table.append(
            (
                str(r.id),
                r.role.value,
                r.name,
                r.scope or "-",
                "yes" if r.active else "DISABLED",
                "yes" if r.bound else "no",
            )
        )
    widths = [max(_width(row[i]) for row in table) for i in range(len(table[0]))]
    for row in table:
        print("  ".join(_pad(cell, w) for cell, w in zip(row, widths, strict=True)).rstrip())
    return 0


async def _chat_menu(settings: Settings, tg: TelegramUser, role: Role, active: bool) -> bool:
    """With a token, the chat's menu changes at once; else at the next update (disabling) or
    the next /language (enabling)."""
    from aiogram.exceptions import TelegramAPIError, TelegramNetworkError

    from bot.app import build_bot
    from bot.disabled import update_chat_menu

    if settings.sandbox:
        return False
    assert settings.bot_token is not None
    bot = build_bot(settings.bot_token.get_secret_value(), settings.telegram_api_url)
    try:
        await update_chat_menu(bot, tg, role, active, Translator(settings.default_locale))
    except (TelegramAPIError, TelegramNetworkError, OSError) as exc:
        print(f"zhupei: the chat's command menu was not changed now: {exc}", file=sys.stderr)
        return False
    finally:
        await bot.session.close()
    return True


async def _set_active(settings: Settings, account_id: int, active: bool) -> int:
    db = await cli._open(settings)
    try:
        async with db.transaction() as session:
            ctx = cli._ctx(session, settings)
            account = await staff_accounts.set_active(ctx, None, account_id, active)
            tg = await staff_accounts.bound_chat(ctx, account_id)
        role = Role(account.role)
    finally:
        await db.dispose()
    menu = tg is not None and await _chat_menu(settings, tg, role, active)
    label = cli.ROLE_LABELS[role]
    if active:
        print(f"Enabled #{account_id} {account.display_name} ({label}).")
        if menu:
            print("Their chat is still bound and has its command menu back.")
        elif tg is not None:
            print("Their chat is still bound; the command menu returns with /language.")
    else:
        print(f"Disabled #{account_id} {account.display_name} ({label}).")
        print("Every action of theirs is refused from their next update on.")
        if menu:
            print("Their chat's command menu is removed.")
    return 0


async def _reinvite(settings: Settings, account_id: int, ttl_hours: int | None) -> int:
    ttl = timedelta(hours=ttl_hours or settings.invitation_ttl_hours)
    db = await cli._open(settings)
    try:
        username = await cli._bot_username(settings, db)
        async with db.transaction() as session:
            ctx = cli._ctx(session, settings)
            account, token = await staff_accounts.reinvite_staff(ctx, account_id, ttl=ttl)
            expires = ctx.now() + ttl
            label = cli.ROLE_LABELS[Role(account.role)]
    finally:
        await db.dispose()
    print(f"New invitation for #{account_id} {account.display_name} ({label}):")
    print(cli.deep_link(username, token))
    print(f"One-time link, valid until {cli._local_time(settings, expires)}.")
    print("Links issued before and not used yet no longer work.")
    if username is None:
        print(cli.UNKNOWN_BOT)
    return 0


def cmd_staff(args: argparse.Namespace, settings: Settings) -> int:
    work: Any
    if args.staff_command == "list":
        work = _list(settings)
    elif args.staff_command in ("disable", "enable"):
        work = _set_active(settings, args.account_id, args.staff_command == "enable")
    else:
        if args.ttl_hours is not None and not 1 <= args.ttl_hours <= 24 * 30:
            raise cli.UsageError("--ttl-hours must be from 1 to 720")
        work = _reinvite(settings, args.account_id, args.ttl_hours)
    try:
        return asyncio.run(work)
    except DomainError as exc:  # the chat's text, in English, for the operator
        raise cli.UserError(Translator("en").error(exc.code, exc.params)) from exc


def add_parser(sub: Any) -> None:
    staff = sub.add_parser("staff", help="list, disable, enable or re-invite staff accounts")
    actions = staff.add_subparsers(dest="staff_command", required=True, metavar="ACTION")
    actions.add_parser("list", help="every staff account: id, role, name, scope, state")
    for name, text in (
        ("disable", "refuse every action of the account from its next update on"),
        ("enable", "let a disabled account act again"),
        ("reinvite", "a new one-time invitation link; unused older links are revoked"),
    ):
        action = actions.add_parser(name, help=text)
        action.add_argument("account_id", type=int, metavar="ID", help="the id `staff list` shows")
        if name == "reinvite":
            action.add_argument("--ttl-hours", type=int, help="validity (INVITATION_TTL_HOURS)")
        action.set_defaults(parser=action)
    staff.set_defaults(handler=cmd_staff, parser=staff)
