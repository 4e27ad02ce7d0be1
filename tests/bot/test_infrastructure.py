"""Settings, keys, encryption at rest, logging without personal data, texts in both languages."""

from __future__ import annotations

import logging
import os
import re
import stat
from pathlib import Path

import pytest

from bot.config import Settings
from bot.i18n import LOCALES, catalog, placeholders
from bot.keys import load_cipher
from bot.logs import RedactingFormatter, redact
from storage.crypto import FieldCipher, KeyConfigError, parse_key
from storage.db import async_url

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("sqlite:///data/zhupei.db", "sqlite+aiosqlite:///data/zhupei.db"),
        ("sqlite:////abs/path.db", "sqlite+aiosqlite:////abs/path.db"),
        ("postgresql://zp@db.example/zhupei", "postgresql+asyncpg://zp@db.example/zhupei"),
        (
            "postgres://zp:pw@10.0.0.5:5433/zhupei",
            "postgresql+asyncpg://zp:pw@10.0.0.5:5433/zhupei",
        ),
        ("postgresql+asyncpg://zp@h/db", "postgresql+asyncpg://zp@h/db"),
    ],
)
def test_database_url_takes_the_ordinary_forms(given: str, expected: str) -> None:
    assert async_url(given) == expected


def test_unsupported_database_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported"):
        async_url("mysql://root@localhost/db")


def test_sandbox_key_file_is_created_owner_only_and_reused(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path, bot_token=None)
    with caplog.at_level(logging.WARNING):
        first = load_cipher(settings)
    key_file = tmp_path / "zhupei.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert "created" in caplog.text and str(key_file) in caplog.text
    blob = first.encrypt("id_number", "11010519491231002X")
    assert load_cipher(settings).decrypt("id_number", blob) == "11010519491231002X"


def test_configured_key_wins_and_a_bad_key_is_refused(tmp_path: Path) -> None:
    key = "A" * 43 + "="
    settings = Settings(_env_file=None, data_dir=tmp_path, encryption_key=key)
    load_cipher(settings)
    assert not (tmp_path / "zhupei.key").exists()
    with pytest.raises(KeyConfigError):
        parse_key("too-short")


def test_ciphertext_is_bound_to_its_field_and_index_is_keyed() -> None:
    a, b = FieldCipher(os.urandom(32)), FieldCipher(os.urandom(32))
    blob = a.encrypt("phone", "+8613812345678")
    assert b"13812345678" not in blob
    assert a.encrypt("phone", "+8613812345678") != blob  # fresh nonce every time
    with pytest.raises(Exception):  # noqa: B017 - any authentication failure will do
        a.decrypt("id_number", blob)
    assert a.blind_index("phone", "+8613812345678") == a.blind_index("phone", "+8613812345678")
    assert a.blind_index("phone", "+8613812345678") != b.blind_index("phone", "+8613812345678")


def test_logs_redact_id_and_phone_numbers_even_in_tracebacks() -> None:
    formatter = RedactingFormatter("%(message)s")
    try:
        raise ValueError("bad input 44010619980501123X from +86 138 1234 5678")
    except ValueError:
        record = logging.LogRecord("t", logging.ERROR, __file__, 1, "user 13812345678", None, None)
        import sys

        record.exc_info = sys.exc_info()
    text = formatter.format(record)
    assert "Traceback" in text
    for needle in ("44010619980501123X", "13812345678", "138 1234 5678"):
        assert needle not in text
    assert redact("call 020-12345678 ext") == "call 020-12345678 ext"  # landlines are no PII here


def test_every_text_exists_in_both_languages_with_the_same_parameters() -> None:
    zh, en = catalog("zh-CN"), catalog("en")
    assert set(zh) == set(en), {"only zh-CN": set(zh) - set(en), "only en": set(en) - set(zh)}
    for key in zh:
        assert placeholders(zh[key]) == placeholders(en[key]), key
    assert LOCALES == ("zh-CN", "en")


def test_every_refusal_of_the_workflow_has_a_text() -> None:
    codes: set[str] = set()
    for path in (ROOT / "workflow").rglob("*.py"):
        source = path.read_text()
        codes |= set(re.findall(r'(?:DomainError|Forbidden)\(\s*"([a-z_.]+)"', source))
    assert codes, "no codes found: the pattern is stale"
    texts = catalog("zh-CN")
    missing = sorted(code for code in codes if f"error.{code}" not in texts)
    assert not missing, missing


def test_every_profile_problem_has_a_text() -> None:
    source = "\n".join(p.read_text() for p in (ROOT / "workflow").glob("*.py"))
    codes = set(
        re.findall(
            r'(?:add|Problem\("[a-z]+",)\s*\(?"((?:edu|work|contact|basic)\.[a-z_]+)"', source
        )
    )
    codes |= {
        f"basic.missing_{f}" for f in ("gender", "birth_date", "ethnicity", "political_status")
    }
    codes |= {
        f"contact.missing_{f}" for f in ("email", "address", "emergency_name", "emergency_phone")
    }
    texts = catalog("en")
    assert sorted(c for c in codes if f"problem.{c}" not in texts) == []
