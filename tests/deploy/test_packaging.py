"""The deployment files: compose validates (when docker compose is installed), the units and
the image run what exists, and the container health check talks to a real /healthz."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import build_parser
from bot.config import Settings
from bot.fsm_storage import SqlStorage
from bot.ops import start_ops_server
from bot.services import Services
from storage.crypto import FieldCipher
from storage.db import Database
from workflow.clock import FrozenClock

ROOT = Path(__file__).resolve().parents[2]


def _compose() -> list[str] | None:
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, check=False)
        if probe.returncode == 0:
            return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


def test_compose_file_is_valid(tmp_path: Path) -> None:
    compose = _compose()
    if compose is None:
        if os.environ.get("ZHUPEI_REQUIRE_SERVICES"):
            pytest.fail("docker compose is not installed (apt-get install -y docker-compose)")
        pytest.skip("docker compose is not installed")
    env = {
        **os.environ,
        "BOT_TOKEN": "123:abc",
        "WEBHOOK_URL": "https://bot.example.org/telegram/webhook",
        "WEBHOOK_SECRET": "s3cret",
        "POSTGRES_PASSWORD": "pw",
        "DOMAIN": "bot.example.org",
    }
    result = subprocess.run(
        [*compose, "-f", str(ROOT / "compose.yaml"), "config", "-q"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_image_and_units_start_what_exists() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert dockerfile.startswith("#") and "FROM python:3.11-slim" in dockerfile
    assert "\nUSER zhupei\n" in dockerfile and 'ENTRYPOINT ["zhupei"]' in dockerfile
    assert 'CMD ["python", "-m", "bot.healthcheck"]' in dockerfile
    for name in ("bot", "handlers", "reference", "scheduler", "storage", "workflow"):
        assert f"COPY {name} ./{name}" in dockerfile
    commands = build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    bot = (ROOT / "deploy/systemd/zhupei.service").read_text()
    assert "ExecStart=/opt/zhupei/bin/zhupei run" in bot and "run" in commands
    sender = (ROOT / "deploy/systemd/zhupei-sender.service").read_text()
    assert "ExecStart=/opt/zhupei/bin/python -m scheduler.sender_main" in sender
    assert (ROOT / "scheduler/sender_main.py").is_file()
    assert "User=zhupei" in bot and "User=zhupei" in sender


async def _healthcheck(port: int) -> int:
    env = {**os.environ, "OPS_PORT": str(port)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.healthcheck",
        env=env,
        cwd=ROOT,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    return await proc.wait()


async def test_container_health_check_against_a_real_healthz(
    db: Database, cipher: FieldCipher, clock: FrozenClock
) -> None:
    services = Services(
        Settings(_env_file=None),  # type: ignore[call-arg]
        db,
        cipher,
        clock,
        SqlStorage(db, clock=clock),
    )
    alive = {"sender": True}
    runner = await start_ops_server("127.0.0.1", 0, services, {"sender": lambda: alive["sender"]})
    port = runner.addresses[0][1]
    try:
        assert await _healthcheck(port) == 0
        alive["sender"] = False
        assert await _healthcheck(port) == 1
    finally:
        await runner.cleanup()
    assert await _healthcheck(port) == 1  # nothing listens any more
