"""A user's type checker finds syncws in an editable install (README's ``pip install -e``).

setuptools' default editable install is an import hook, which mypy never runs ("Cannot find
implementation or library stub"); setup.cfg's ``package_dir`` makes it a plain path .pth.
This installs the checkout into a fresh venv as a user would and runs mypy from elsewhere.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

USER_CODE = """
import syncws

reveal_type(syncws.connect("ws://x/"))
"""


@pytest.mark.timeout(120)
def test_mypy_finds_syncws_in_an_editable_install(tmp_path: Path) -> None:
    pytest.importorskip("mypy")
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False)  # this venv's pip installs into it (--python)
    python = env_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    # No C build: a rebuilt extension would be rewritten in place under running tests.
    env = {**os.environ, "SYNCWS_NO_EXTENSIONS": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    env.pop("MYPYPATH", None)
    env.pop("PYTHONPATH", None)
    install = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "-e", str(ROOT)],
        capture_output=True, text=True, env=env, cwd=tmp_path,
    )
    assert install.returncode == 0, install.stderr
    user = tmp_path / "app"
    user.mkdir()
    (user / "main.py").write_text(USER_CODE)
    check = subprocess.run(
        [
            sys.executable, "-m", "mypy", "--strict", "--no-incremental",
            "--python-executable", str(python), "main.py",
        ],
        capture_output=True, text=True, env=env, cwd=user,
    )
    assert 'Revealed type is "syncws.sync.websocket.SyncWebSocket"' in check.stdout, check.stdout
    assert check.returncode == 0, check.stdout
