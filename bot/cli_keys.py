"""`zhupei keys`: the encryption keys of personal data.

    zhupei keys new       a new current key (the key file keeps the old one as previous)
    zhupei keys rotate    re-seal every value under the current key, then drop the old key
    zhupei keys status    the configured keys and what is still under an old one

The procedure is in docs/deployment.md ("Key management").
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import sys
from typing import Any

from bot.config import Settings
from bot.keys import configured_keys, load_cipher
from storage import migrate
from storage.crypto import FieldCipher, generate_key, write_key_file
from storage.db import Database
from storage.key_rotation import count_stale, rotate, rows_per_key


def _b64(key: bytes) -> str:
    return base64.b64encode(key).decode()


def _from_file(settings: Settings) -> bool:
    key = settings.encryption_key
    return key is None or not key.get_secret_value()


def cmd_keys_new(args: argparse.Namespace, settings: Settings) -> int:
    key = generate_key()
    if not _from_file(settings):
        print(key)
        print(
            "Set ENCRYPTION_KEY to the key above and ENCRYPTION_KEY_PREVIOUS to the current "
            "ENCRYPTION_KEY on every instance, restart them, then run `zhupei keys rotate`.",
            file=sys.stderr,
        )
        return 0
    path = settings.resolved_key_file
    current, previous = configured_keys(settings)
    try:
        write_key_file(path, [key, *(_b64(k) for k in (current, *previous))])
    except OSError as exc:  # a read-only secret mount: the operator edits the file
        print(key)
        print(
            f"{path} cannot be written ({exc.strerror}): put the key above on its first line, "
            "keep the current key below it, restart every instance, then run "
            "`zhupei keys rotate`.",
            file=sys.stderr,
        )
        return 0
    new_id = FieldCipher(base64.b64decode(key)).key_id
    print(f"{path}: new current key {new_id}; the previous key(s) stay below it for reading.")
    print("Restart every instance (or give them this file), then run `zhupei keys rotate`.")
    return 0


async def _rotate(args: argparse.Namespace, settings: Settings) -> int:
    cipher = load_cipher(settings)
    url = settings.resolved_database_url
    await migrate.ensure_current_async(url)
    db = Database(url)
    done = 0

    async def progress(table: str, rewritten: int) -> None:
        nonlocal done
        done += rewritten
        if rewritten:
            print(f"  {table}: {rewritten} row(s) re-sealed ({done} so far)", flush=True)

    try:
        print(f"Re-sealing under key {cipher.key_id} (batches of {args.batch_size})…")
        report = await rotate(db, cipher, batch_size=args.batch_size, on_batch=progress)
    finally:
        await db.dispose()
    print(f"Done: {report}.")
    if report.remaining:
        print(
            f"{report.remaining} value(s) were written back under an old key meanwhile: "
            "run `zhupei keys rotate` again.",
            file=sys.stderr,
        )
        return 1
    if _from_file(settings) and not args.keep_previous and not settings.encryption_key_previous:
        current, _ = configured_keys(settings)
        write_key_file(settings.resolved_key_file, [_b64(current)])
        print(f"{settings.resolved_key_file}: now holds only key {cipher.key_id}.")
    elif cipher.rotating:
        print("Every value is under the current key: remove ENCRYPTION_KEY_PREVIOUS and restart.")
    return 0


def cmd_keys_rotate(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(_rotate(args, settings))


async def _status(settings: Settings) -> int:
    cipher = load_cipher(settings)
    url = settings.resolved_database_url
    await migrate.ensure_current_async(url)
    db = Database(url)
    try:
        per_key = await rows_per_key(db)
        stale = await count_stale(db, cipher)
    finally:
        await db.dispose()
    print(f"current key:   {cipher.key_id}")
    print(f"previous keys: {', '.join(cipher.key_ids[1:]) or 'none'}")
    print("profiles per key: " + (", ".join(f"{k}={n}" for k, n in per_key.items()) or "none"))
    left = ", ".join(f"{t}={n}" for t, n in stale.items())
    print(f"under an old key: {left or 'nothing: no rotation pending'}")
    return 0


def cmd_keys_status(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(_status(settings))


def _batch_size(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 10_000:
        raise argparse.ArgumentTypeError("a number from 1 to 10000")
    return int(text)


def register(sub: Any) -> None:
    """Adds `keys` to the `zhupei` parser's subcommands."""
    keys = sub.add_parser("keys", help="encryption keys of personal data: new, rotate, status")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    keys_sub.add_parser("new", help="make a new current key").set_defaults(handler=cmd_keys_new)
    rot = keys_sub.add_parser("rotate", help="re-seal every value under the current key")
    rot.add_argument("--batch-size", type=_batch_size, default=200, help="rows per transaction")
    rot.add_argument(
        "--keep-previous", action="store_true", help="leave the old keys in the key file"
    )
    rot.set_defaults(handler=cmd_keys_rotate)
    keys_sub.add_parser("status", help="the keys and what is still under an old one").set_defaults(
        handler=cmd_keys_status
    )
