"""The Sphinx site builds with warnings as errors, and its tables say what the code does:
every public name in the API page, every option with its default, every exception,
close code and command-line flag."""

from __future__ import annotations

import ast
import dataclasses
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Dict, List

import pytest

import syncws
from syncws.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


def table(page: Path, heading: str) -> List[List[str]]:
    """Rows (cells stripped) of the first table after ``heading``."""
    lines = page.read_text(encoding="utf-8").splitlines()
    start = lines.index(heading)
    rows: List[List[str]] = []
    for line in lines[start + 1 :]:
        if line.startswith("|"):
            cells = [cell.strip() for cell in line.strip().strip("|").split(" | ")]
            if not set("".join(cells)) <= set("- :"):
                rows.append(cells)
        elif rows:
            break
    return rows[1:]  # without the header


def test_sphinx_build_passes_with_warnings_as_errors(tmp_path: Path) -> None:
    pytest.importorskip("sphinx")
    pytest.importorskip("myst_parser")
    proc = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-E", "-q", "-b", "html", "docs", str(tmp_path)],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    for page in ("index", "quickstart", "threading", "api", "migration", "cli", "performance"):
        assert (tmp_path / f"{page}.html").exists()
    api = (tmp_path / "api.html").read_text(encoding="utf-8")
    for name in syncws.__all__:
        assert f'id="syncws.{name}"' in api, f"syncws.{name} is not rendered in api.html"


def test_api_page_names_every_public_name() -> None:
    text = (DOCS / "api.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\.\. (?:auto\w+|py:\w+):: syncws\.(\w+)\s*$", text, re.M))
    assert sorted(set(syncws.__all__) - documented) == []
    modules = {name for name in documented if isinstance(getattr(syncws, name, None), ModuleType)}
    assert sorted(documented - modules - set(syncws.__all__)) == []


def _default(cell: str) -> object:
    literal = re.match(r"`([^`]+)`", cell)
    assert literal, f"default {cell!r} is not in backticks"
    value = literal[1]
    if value.isidentifier() and hasattr(syncws, value) and value not in ("True", "False", "None"):
        return getattr(syncws, value)
    return ast.literal_eval(value)


def test_options_table_has_every_option_with_its_default() -> None:
    rows = table(DOCS / "index.md", "## Connection options")
    documented: Dict[str, object] = {}
    for name, default, _meaning in rows:
        documented[name.strip("`")] = _default(default)
    expected = {f.name: f.default for f in dataclasses.fields(syncws.Options) if f.init}
    expected["reconnect"] = False  # a keyword of connect() / ws_connect() themselves
    assert documented == expected


def test_errors_table_names_every_exception() -> None:
    rows = table(DOCS / "index.md", "## Errors")
    named = set(re.findall(r"`(\w+)`", " ".join(row[0] for row in rows)))
    exceptions = {n for n in syncws.__all__ if isinstance(getattr(syncws, n), type)
                  and issubclass(getattr(syncws, n), BaseException)}
    assert sorted(exceptions - named) == []


def test_close_code_table_names_every_code() -> None:
    rows = table(DOCS / "index.md", "## Close codes")
    documented = {int(code): name.strip("`") for code, name, _ in rows}
    assert documented == {int(member): member.name for member in syncws.WSCloseCode}


def test_cli_page_documents_every_flag() -> None:
    rows = table(DOCS / "cli.md", "## Options")
    documented = set(re.findall(r"`(-[-\w]+)", " ".join(row[0] for row in rows)))
    flags = {s for action in build_parser()._actions for s in action.option_strings} - {"-h", "--help"}
    assert sorted(flags - documented) == []
    assert sorted(documented - flags) == []


def test_performance_page_includes_the_results_instead_of_copying_them() -> None:
    text = (DOCS / "performance.md").read_text(encoding="utf-8")
    assert "```{include} ../bench/RESULTS.md" in text
    assert not re.search(r"\d+\.\d+\s*(?:MB/s|ms|x\b)", text), "numbers belong in bench/RESULTS.md"
