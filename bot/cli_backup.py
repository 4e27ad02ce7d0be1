"""`zhupei db backup PATH` and `zhupei db restore PATH` (storage.backup)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from bot.config import Settings
from storage import backup


def _safe(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def cmd_db_backup(args: argparse.Namespace, settings: Settings) -> int:
    url = settings.resolved_database_url
    backup.backup(url, Path(args.path))
    print(f"{_safe(url)}: backed up to {args.path}")
    print("The key file or ENCRYPTION_KEY is not in it: keep it too, somewhere else.")
    return 0


def cmd_db_restore(args: argparse.Namespace, settings: Settings) -> int:
    url = settings.resolved_database_url
    backup.restore(Path(args.path), url, force=args.force)
    print(f"{args.path}: restored into {_safe(url)}. Run `zhupei db upgrade` before starting.")
    return 0


def register(db_sub: Any) -> None:
    """Adds `backup` and `restore` to the `zhupei db` actions."""
    bak = db_sub.add_parser("backup", help="a consistent copy of the database (online)")
    bak.add_argument("path", metavar="PATH", help="a new file")
    bak.set_defaults(handler=cmd_db_backup)
    res = db_sub.add_parser("restore", help="load a backup into the configured database")
    res.add_argument("path", metavar="PATH")
    res.add_argument(
        "--force", action="store_true", help="replace a database that is not empty (bots stopped)"
    )
    res.set_defaults(handler=cmd_db_restore)
