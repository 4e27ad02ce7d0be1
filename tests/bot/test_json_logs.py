"""LOG_FORMAT=json: one JSON object per line, and no ID or phone number in it, neither in the
message nor in a traceback."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from bot.logs import setup_logging
from tests.factories import make_id

PHONE = "13812345678"


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield None
    root.handlers[:] = handlers
    root.setLevel(level)


def test_json_lines_without_personal_data(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, restore_logging: object
) -> None:
    number = make_id()
    monkeypatch.setenv("LOG_FORMAT", "json")
    setup_logging("INFO")
    log = logging.getLogger("zhupei.test")
    log.info("registered %s with phone +86 %s", number, PHONE)
    try:
        raise ValueError(f"duplicate {number} / {PHONE}")
    except ValueError:
        log.exception("registration of %s failed", number)
    err = capsys.readouterr().err

    assert number not in err and PHONE not in err and number[:-1] not in err
    lines = [json.loads(line) for line in err.splitlines()]
    assert [e["level"] for e in lines] == ["INFO", "ERROR"]
    first, second = lines
    assert set(first) == {"time", "level", "logger", "message", "exception"}
    assert first["logger"] == "zhupei.test"
    assert first["message"] == "registered [id] with phone [phone]"
    assert first["exception"] is None
    assert first["time"].endswith("+00:00")
    assert second["message"] == "registration of [id] failed"
    assert "ValueError: duplicate [id] / [phone]" in second["exception"]
    assert "Traceback" in second["exception"]


def test_text_stays_the_default(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, restore_logging: object
) -> None:
    monkeypatch.delenv("LOG_FORMAT", raising=False)
    setup_logging("INFO")
    logging.getLogger("zhupei.test").warning("call %s", PHONE)
    err = capsys.readouterr().err
    assert "WARNING zhupei.test: call [phone]" in err
    with pytest.raises(ValueError, match="LOG_FORMAT"):
        setup_logging("INFO", "xml")
