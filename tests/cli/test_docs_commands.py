"""Every `zhupei …` command the README and docs/ show works against the demo data: each
command line of a code block and each inline command is run in-process on a throwaway database
(upgraded, demo data loaded), in a folder of its own; the files an import names are the import
templates as written. A syntax summary (with placeholders such as FILE, <id>, a|b or …) is
checked against the parser: its command exists and knows every option it names."""

from __future__ import annotations

import csv
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.config import Settings
from reference.importer import Kind
from reference.importer.errors import NAME_HINTS
from tests.cli.conftest import Zhupei

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SPAN = re.compile(r"`(zhupei [^`]+)`")
PLACEHOLDER = re.compile(r"…|\||<[^>]+>|\[|\b(?:[A-Z]{1,5})\b")
# Commands that start a long-running service: shown, never run here.
SKIPPED = {
    ("run",): "starts the bot (a service that runs until stopped)",
    ("run", "--terminal"): "starts the bot with the terminal chat (a service)",
}


@dataclass(frozen=True)
class Shown:
    where: str
    line: str

    @property
    def argv(self) -> list[str]:
        return shlex.split(self.line)[1:]

    @property
    def syntax(self) -> bool:
        return bool(PLACEHOLDER.search(self.line.replace("\\|", "|")))


def shown_commands() -> list[Shown]:
    found: list[Shown] = []
    for path in DOCS:
        fenced = False
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            where = f"{path.relative_to(ROOT)}:{number}"
            if line.strip().startswith("```"):
                fenced = not fenced
            elif fenced:
                text = line.strip()
                if text.startswith("zhupei "):
                    found.append(Shown(where, re.sub(r"\s+#.*$", "", text)))
            else:
                found += [Shown(where, m.group(1)) for m in SPAN.finditer(line)]
    return found


def test_the_docs_show_commands() -> None:
    shown = shown_commands()
    lines = {s.line for s in shown}
    assert "zhupei db upgrade" in lines and "zhupei list bases --search 广州" in lines
    assert any(s.syntax for s in shown) and sum(not s.syntax for s in shown) >= 15
    assert not [s for s in shown if "GZ01" in s.line]  # a test-data code, not a demo one


def _templates_for(zhupei: Zhupei, settings: Settings, argv: list[str]) -> None:
    """The files an import command names, as the templates of their kinds (a .csv gets the
    template's header and example row)."""
    for name in argv[1:]:
        path = Path(name)
        if path.suffix not in {".xlsx", ".csv"} or path.exists():
            continue
        stem = path.stem.lower()
        kind = next(k for k in Kind if any(h in stem for h in NAME_HINTS[k]))
        xlsx = path.with_suffix(".xlsx") if path.suffix == ".csv" else path
        made = zhupei(settings, "import", "--template", kind.value, "--out", xlsx)
        assert made.code == 0, made.err
        if path.suffix == ".csv":
            sheet = load_workbook(xlsx).worksheets[0]
            with path.open("w", encoding="utf-8", newline="") as fh:
                csv.writer(fh).writerows(sheet.iter_rows(max_row=2, values_only=True))
            xlsx.unlink()


def test_every_command_in_the_docs_runs(
    zhupei: Zhupei, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert zhupei(settings, "db", "upgrade").code == 0
    loaded = zhupei(settings, "demo-data")
    assert loaded.code == 0, loaded.err
    ran, skipped, checked = [], [], []
    for shown in shown_commands():
        argv = shown.argv
        if tuple(argv) in SKIPPED:
            skipped.append((shown, SKIPPED[tuple(argv)]))
            continue
        if shown.syntax:
            _check_syntax(zhupei, settings, shown)
            checked.append(shown)
            continue
        if argv[0] == "import":
            _templates_for(zhupei, settings, argv)
        outcome = zhupei(settings, *argv)
        assert outcome.code == 0, f"{shown.where}: {shown.line}\n{outcome.err}"
        ran.append(shown)
    assert len(ran) >= 15 and checked and skipped
    assert all(reason for _, reason in skipped)


def _check_syntax(zhupei: Zhupei, settings: Settings, shown: Shown) -> None:
    words: list[str] = []
    for token in shown.line.replace("\\|", "|").split()[1:]:
        if token.startswith("-") or PLACEHOLDER.search(token):
            break
        words.append(token)
    helped = zhupei(settings, *words, "--help")
    assert helped.code == 0 and words, f"{shown.where}: {shown.line}"
    for option in re.findall(r"(?<![\w-])--[a-z][a-z-]*", shown.line):
        assert option in helped.out, f"{shown.where}: {shown.line}: no {option}"
