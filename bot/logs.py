"""Logging that never carries personal data: ID and phone numbers are redacted from every
record, tracebacks included. LOG_FORMAT=json writes one JSON object per line (time, level,
logger, message, exception) for a log collector."""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from datetime import UTC, datetime

# 18-character resident IDs (and the old 15-digit ones), Chinese mobile numbers in any spacing.
_ID = re.compile(r"(?<![0-9A-Za-z])(\d{17}[\dXx]|\d{15})(?![0-9A-Za-z])")
_PHONE = re.compile(r"(?<![\d+])(\+?86[ -]?)?1[3-9]\d[ -]?\d{4}[ -]?\d{4}(?!\d)")


def redact(text: str) -> str:
    return _PHONE.sub("[phone]", _ID.sub("[id]", text))


class RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per record; message and traceback redacted like the text format."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
            "exception": None,
        }
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        elif record.stack_info:
            entry["exception"] = redact(self.formatStack(record.stack_info))
        return json.dumps(entry, ensure_ascii=False)


def build_formatter(log_format: str = "text") -> logging.Formatter:
    if log_format == "json":
        return JsonFormatter()
    if log_format != "text":
        raise ValueError(f"LOG_FORMAT must be text or json, not {log_format!r}")
    return RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")


def setup_logging(level: str = "INFO", log_format: str | None = None) -> None:
    """`log_format` defaults to the LOG_FORMAT environment variable (text when unset)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(build_formatter(log_format or os.environ.get("LOG_FORMAT", "text")))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("aiogram.event").setLevel(logging.WARNING)
    # Drivers log statements with their parameters at DEBUG: never, whatever the root level.
    for name in ("aiosqlite", "asyncpg", "sqlalchemy.engine"):
        logging.getLogger(name).setLevel(logging.WARNING)
