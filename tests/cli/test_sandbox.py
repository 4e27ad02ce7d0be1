"""`make run` with no token: the sandbox starts on a fresh data directory (embedded SQLite, demo
data, Bot API emulator) and the terminal chat talks to the real bot."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

WELCOME = "欢迎使用广东省住院医师规范化培训招录助手"


def _read_until(fd: int, needle: str, seen: list[str], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # the child closed its terminal
                return needle in "".join(seen)
            seen.append(chunk.decode("utf-8", "replace"))
            if needle in "".join(seen):
                return True
    return False


def test_the_sandbox_starts_and_answers_in_the_terminal_chat(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("zhupei")
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"BOT_TOKEN", "DATABASE_URL", "REDIS_URL"}
    }
    env.update(DATA_DIR=str(tmp_path / "data"), SANDBOX_PORT="0", LOG_LEVEL="INFO")
    main, child = pty.openpty()
    proc = subprocess.Popen(
        [str(script), "run"], stdin=child, stdout=child, stderr=child, env=env, cwd=tmp_path
    )
    os.close(child)
    seen: list[str] = []
    try:
        assert _read_until(main, "scheduler started", seen, 90), "".join(seen)
        os.write(main, b"/start\n")
        assert _read_until(main, WELCOME, seen, 30), "".join(seen)
        proc.send_signal(signal.SIGINT)  # Ctrl-C
        _read_until(main, "\0", seen, 15)  # keep reading: a full terminal would block the bot
        assert proc.wait(timeout=5) == 0, "".join(seen)
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(main)
    output = "".join(seen)
    assert "demo data loaded" in output
    assert "Traceback" not in output, output
    assert (tmp_path / "data").is_dir()
