"""Small records shared by the validator, the server and the scripted users."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple


@dataclass(frozen=True)
class UploadedFile:
    """A file sent as a multipart part."""

    filename: str
    data: bytes
    content_type: str | None = None


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a request; `message` is worded like Telegram's description."""

    message: str
    path: str = ""

    def __str__(self) -> str:
        return f"{self.message} (in {self.path})" if self.path else self.message


@dataclass(frozen=True)
class Violation:
    """A request the real Telegram would reject (or the emulator cannot honour)."""

    method: str
    problem: str
    params: dict[str, Any]

    def __str__(self) -> str:
        return f"{self.method}: {self.problem} | params={_short_params(self.params)}"


@dataclass
class CallRecord:
    """One HTTP call of the bot; `status` is filled in once it is answered."""

    method: str
    params: dict[str, Any]
    chat_id: int | str | None
    monotonic: float
    wall_time: float
    status: int = 0
    description: str | None = None


class Command(NamedTuple):
    command: str
    description: str


def _short_params(params: dict[str, Any]) -> str:
    shown = {k: (v if len(repr(v)) <= 80 else repr(v)[:77] + "...") for k, v in params.items()}
    return repr(shown)
