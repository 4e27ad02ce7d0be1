"""Backups of the database: SQLite through its online backup API (consistent while the bot
runs), PostgreSQL through pg_dump / pg_restore in their custom format."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from storage.db import sync_url


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why."""


def backend(url: str) -> str:
    return make_url(sync_url(url)).get_backend_name()


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database has nothing to back up")
    return Path(database)


def _tables(conn: sqlite3.Connection) -> list[str]:
    rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return [name for (name,) in rows]


def _owner_only(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))


def sqlite_backup(url: str, dest: Path) -> None:
    source = _sqlite_path(url)
    if not source.exists():
        raise BackupError(f"{source} does not exist")
    if dest.exists():
        raise BackupError(f"{dest} exists already: give a new file name")
    _owner_only(dest)  # it holds the (encrypted) personal data and the password hashes
    src = sqlite3.connect(source)
    try:
        out = sqlite3.connect(dest)
        try:
            src.backup(out)
        finally:
            out.close()
    finally:
        src.close()


def sqlite_restore(backup: Path, url: str, *, force: bool = False) -> None:
    if not backup.is_file():
        raise BackupError(f"{backup} is not a file")
    target = _sqlite_path(url)
    src = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
    try:
        try:
            ok = src.execute("PRAGMA integrity_check").fetchone()
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"{backup} is not a SQLite database: {exc}") from exc
        if not ok or ok[0] != "ok" or "alembic_version" not in _tables(src):
            raise BackupError(f"{backup} is not a backup of this application's database")
        _owner_only(target)
        out = sqlite3.connect(target)
        try:
            if _tables(out) and not force:
                raise BackupError(
                    f"{target} is not empty: restore into a new DATABASE_URL, or pass --force "
                    "(with every bot stopped) to replace it"
                )
            src.backup(out)
        finally:
            out.close()
    finally:
        src.close()


def _pg_args(url: str) -> tuple[list[str], dict[str, str]]:
    """Connection options for the PostgreSQL tools; the password goes in the environment."""
    parsed: URL = make_url(sync_url(url))
    args = []
    if parsed.host:
        args += ["--host", parsed.host]
    if parsed.port:
        args += ["--port", str(parsed.port)]
    if parsed.username:
        args += ["--username", parsed.username]
    args += ["--dbname", parsed.database or "postgres"]
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    return args, env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} is not installed (the PostgreSQL client tools)")
    return path


def _run(cmd: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"{Path(cmd[0]).name} failed: {result.stderr.strip()}")


def pg_backup(url: str, dest: Path) -> None:
    if dest.exists():
        raise BackupError(f"{dest} exists already: give a new file name")
    _owner_only(dest)
    args, env = _pg_args(url)
    _run([_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(dest), *args], env)


def pg_restore(backup: Path, url: str, *, force: bool = False) -> None:
    if not backup.is_file():
        raise BackupError(f"{backup} is not a file")
    from storage.migrate import table_names

    if table_names(url) and not force:
        raise BackupError(
            "the database is not empty: restore into a new DATABASE_URL, or pass --force "
            "(with every bot stopped) to replace it"
        )
    args, env = _pg_args(url)
    options = ["--no-owner", "--exit-on-error"]
    if force:
        options += ["--clean", "--if-exists"]
    _run([_tool("pg_restore"), *options, *args, str(backup)], env)


def backup(url: str, dest: Path) -> None:
    (sqlite_backup if backend(url) == "sqlite" else pg_backup)(url, dest)


def restore(backup_file: Path, url: str, *, force: bool = False) -> None:
    if backend(url) == "sqlite":
        sqlite_restore(backup_file, url, force=force)
    else:
        pg_restore(backup_file, url, force=force)
