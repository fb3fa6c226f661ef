"""The bench installs its own peers: pip requirements and the Node echo server's packages."""
from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
SERVER_DIR = BENCH_DIR / "server"
REQUIREMENTS = BENCH_DIR / "requirements.txt"
PEER_MODULES = ("websockets", "aiohttp", "websocket")


def log(msg: str) -> None:
    """Progress goes to stderr so stdout stays the Markdown report."""
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def ensure_python_peers() -> list[str]:
    """pip-install bench/requirements.txt if a peer is missing; return what is still missing."""
    missing = [m for m in PEER_MODULES if importlib.util.find_spec(m) is None]
    if missing:
        log(f"installing peers ({', '.join(missing)} missing): pip install -r {REQUIREMENTS}")
        cmd = [sys.executable, "-m", "pip", "install", "-q", "-r", str(REQUIREMENTS)]
        try:
            subprocess.run(cmd, check=False, timeout=600)
        except subprocess.TimeoutExpired:
            log("pip install timed out")
        importlib.invalidate_caches()
        missing = [m for m in PEER_MODULES if importlib.util.find_spec(m) is None]
    return missing


def node_problem() -> str | None:
    """Why the Node servers can't run here, or None if node and the packages are ready."""
    if shutil.which("node") is None:
        return "node is not installed"
    if _node_modules_ready():
        return None
    npm = shutil.which("npm")
    if npm is None:
        return "npm is not installed and bench/server/node_modules is missing"
    verb = "ci" if (SERVER_DIR / "package-lock.json").exists() else "install"
    log(f"installing the echo server's packages: npm {verb} in {SERVER_DIR}")
    try:
        done = subprocess.run(
            [npm, verb, "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=SERVER_DIR, check=False, timeout=300,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
    except subprocess.TimeoutExpired:
        return f"npm {verb} timed out"
    if done.returncode != 0 or not _node_modules_ready():
        lines = [ln for ln in done.stdout.splitlines() if ln.strip()]
        return f"npm {verb} failed (exit {done.returncode}): {lines[-1] if lines else ''}"
    return None


def _node_modules_ready() -> bool:
    modules = SERVER_DIR / "node_modules"
    return all((modules / name / "package.json").exists() for name in ("ws", "bufferutil"))
