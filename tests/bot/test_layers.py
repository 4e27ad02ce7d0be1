"""The layers the README draws, as the imports have them: the business rules know nothing of
Telegram or of the bot, and the Mini App's web pages do not depend on the chat's handlers
(what both need lives below both, in `bot/` or `workflow/`)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# folder → the top-level packages its modules must not import
FORBIDDEN = {
    "workflow": ("aiogram", "bot", "handlers", "scheduler"),
    "bot/miniapp": ("handlers",),
    "bot/sms": ("aiogram", "handlers"),
}


def imports_of(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


@pytest.mark.parametrize("folder", sorted(FORBIDDEN))
def test_a_layer_imports_nothing_from_above_it(folder: str) -> None:
    files = sorted((ROOT / folder).rglob("*.py"))
    assert files, folder
    wrong = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in files
        for name in sorted(imports_of(path))
        if name.split(".")[0] in FORBIDDEN[folder]
    ]
    assert wrong == []
