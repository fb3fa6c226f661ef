"""examples/app.py and examples/wait_many.py run as written, on their own local server
and against the test servers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run_example(name: str, *args: str) -> subprocess.CompletedProcess:  # type: ignore[type-arg]
    return subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args], capture_output=True, text=True, timeout=60, cwd=EXAMPLES
    )


@pytest.mark.parametrize("server", ["own", "websockets", "aiohttp"])
def test_app_example(server: str, ws_url: str, aiohttp_url: str) -> None:
    args = {"own": [], "websockets": [ws_url + "/echo"], "aiohttp": [aiohttp_url + "/echo"]}[server]
    proc = run_example("app.py", *args)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["open", "message one", "message two", "message three", "closed with code 1000"]


def test_app_example_exits_1_when_it_cannot_connect(ws_url: str) -> None:
    proc = run_example("app.py", ws_url + "/status/404")
    assert proc.returncode == 1
    assert proc.stdout.splitlines()[0].startswith("error 404")
    assert proc.stdout.splitlines()[-1] == "closed with code None"


@pytest.mark.parametrize("server", ["own", "websockets"])
def test_wait_many_example(server: str, ws_url: str) -> None:
    proc = run_example("wait_many.py", *([] if server == "own" else [ws_url + "/echo"]))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert sorted(lines[:3]) == [f"{n} got hello from {n}" for n in ("alpha", "beta", "gamma")]
    assert lines[3:] == ["all closed: True"]
