"""`zhupei run` with a real token and the development SMS provider refuses to start, saying
what to set; nothing is contacted first."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from storage import migrate


def test_zhupei_run_refuses_the_log_provider_with_a_real_token(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    migrate.upgrade(f"sqlite:///{data / 'zhupei.db'}")  # only the SMS settings stand in the way
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("SMS_") and key not in {"DATABASE_URL", "REDIS_URL"}
    }
    # An unreachable Bot API: were the check not first, the run would fail differently.
    env.update(DATA_DIR=str(data), BOT_TOKEN="123456:ABC", TELEGRAM_API_URL="http://127.0.0.1:9")
    script = Path(sys.executable).with_name("zhupei")
    run = subprocess.run(
        [str(script), "run"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 1, run.stderr
    assert "zhupei: SMS: SMS_PROVIDER=log would send verification codes only to the log" in (
        run.stderr
    )
    assert "SMS_ALLOW_LOG_PROVIDER=true" in run.stderr and "Traceback" not in run.stderr
