"""`zhupei run` with no token, as `make run` starts it on a fresh data directory, for the web
chat tests: the process, the address it prints and how long it took to serve the page."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

START_LIMIT = 60.0  # seconds from the command to a served page
ADDRESS = re.compile(r"Sandbox web chat: (http://\S+)")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "sandbox"


@dataclass
class SandboxProcess:
    proc: subprocess.Popen[str]
    data_dir: Path
    url: str = ""
    started_in: float = 0.0
    output: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(self.output)


def _drain(sandbox: SandboxProcess) -> None:
    assert sandbox.proc.stdout is not None
    for line in sandbox.proc.stdout:
        sandbox.output.append(line)


def _page_served(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200 and b"app.js" in response.read()
    except OSError:
        return False


def require_chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        if os.environ.get("ZHUPEI_REQUIRE_SERVICES"):
            pytest.fail("chromium is not installed (apt-get install -y chromium)")
        pytest.skip("chromium is not installed")
    return path


def start_sandbox(root: Path) -> SandboxProcess:
    """`zhupei run` with no token on the data directory `root/data`, until its page is served
    (AssertionError with its output when it is not within the limit and a margin)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"BOT_TOKEN", "DATABASE_URL", "REDIS_URL", "ENCRYPTION_KEY", "KEY_FILE"}
    }
    env.update(
        DATA_DIR=str(root / "data"), SANDBOX_PORT="0", SANDBOX_WEB_PORT="0", PYTHONUNBUFFERED="1"
    )
    script = Path(sys.executable).with_name("zhupei")
    started = time.monotonic()
    proc = subprocess.Popen(
        [str(script), "run"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=root,
    )
    running = SandboxProcess(proc, root / "data")
    threading.Thread(target=_drain, args=(running,), daemon=True).start()
    deadline = started + START_LIMIT + 30  # measured by the test; fail with the output past this
    while time.monotonic() < deadline and proc.poll() is None:
        found = ADDRESS.search(running.text)
        if found and _page_served(found.group(1)):
            running.url = found.group(1)
            running.started_in = time.monotonic() - started
            return running
        time.sleep(0.2)
    stop_sandbox(running)
    raise AssertionError(f"the sandbox did not serve its page:\n{running.text}")


def stop_sandbox(running: SandboxProcess) -> int:
    running.proc.terminate()  # SIGTERM: the bot stops polling and saves the chats
    try:
        return running.proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        running.proc.kill()
        return running.proc.wait()


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxProcess]:
    if os.environ.get("DATABASE_URL"):
        pytest.skip("the sandbox runs on its embedded SQLite whatever DATABASE_URL says")
    running = start_sandbox(tmp_path_factory.mktemp("sandbox"))
    try:
        yield running
    finally:
        if running.proc.poll() is None:
            stop_sandbox(running)


@pytest.fixture(scope="module")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob("*.png"):
        old.unlink()
    print(f"\nsandbox screenshots: {ARTIFACTS}")
    return ARTIFACTS
