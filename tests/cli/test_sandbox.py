"""`make run` with no token: the sandbox starts on a fresh data directory (embedded SQLite, demo
data, Bot API emulator) and, with SANDBOX_TERMINAL=1, the terminal chat talks to the real bot."""

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


def _read_until(fd: int, needle: str, seen: list[str], timeout: float, after: int = 0) -> bool:
    """Read until `needle` shows in the output past its first `after` characters."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # the child closed its terminal
                return needle in "".join(seen)[after:]
            seen.append(chunk.decode("utf-8", "replace"))
            if needle in "".join(seen)[after:]:
                return True
    return False


def test_the_sandbox_starts_and_answers_in_the_terminal_chat(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("zhupei")
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"BOT_TOKEN", "DATABASE_URL", "REDIS_URL"}
    }
    env.update(
        DATA_DIR=str(tmp_path / "data"),
        SANDBOX_PORT="0",
        SANDBOX_WEB_PORT="0",
        SANDBOX_TERMINAL="1",
        LOG_LEVEL="INFO",
    )
    main, child = pty.openpty()
    proc = subprocess.Popen(
        [str(script), "run"], stdin=child, stdout=child, stderr=child, env=env, cwd=tmp_path
    )
    os.close(child)
    seen: list[str] = []
    try:
        assert _read_until(main, "Type /start", seen, 90), "".join(seen)
        os.write(main, b"/start\n")
        assert _read_until(main, WELCOME, seen, 30), "".join(seen)
        # A label without its emoji, or a unique part of it, presses the button.
        os.write(main, "!press 学员注册\n".encode())
        assert _read_until(main, "业务入口", seen, 30), "".join(seen)
        # Another user's chat: the reply is printed, as a new message (ids repeat across chats).
        mark = len("".join(seen))
        os.write(main, b"!user 10077\n/start\n")
        assert _read_until(main, "\U0001f916 " + WELCOME, seen, 30, after=mark), "".join(seen)
        assert "(edited) " + WELCOME not in "".join(seen)[mark:], "".join(seen)
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
    assert "scheduler started" not in output  # log lines go to data/sandbox.log
    assert "scheduler started" in (tmp_path / "data" / "sandbox.log").read_text("utf-8")
    assert (tmp_path / "data").is_dir()
