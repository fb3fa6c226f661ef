"""Machine and version facts for the report header: numbers mean little without them."""
from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import platform
import re
import subprocess
import sys
import time
from typing import Any

from bench.deps import BENCH_DIR


def cpu_model() -> str:
    """CPU model name from /proc/cpuinfo (falls back to platform.processor())."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def syncws_version() -> str:
    """Installed or in-tree syncws version, as the workers will import it."""
    installed = _version("syncws")
    if installed != "not installed":
        return installed
    path = BENCH_DIR.parent / "syncws" / "_version.py"
    if path.exists():
        found = re.search(r"""__version__\s*=\s*["']([^"']+)""", path.read_text())
        if found:
            return f"{found.group(1)} (in-tree)"
    return "not importable"


def _compiled(module: str) -> bool:
    spec = importlib.util.find_spec(module) if importlib.util.find_spec(module.split(".")[0]) else None
    return bool(spec and spec.origin and spec.origin.endswith((".so", ".pyd")))


def git_commit() -> str:
    """Short commit of the working tree (plus a dirty marker)."""
    try:
        out = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=BENCH_DIR,
                             capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return out.stdout.strip() or "no commits yet"


def collect(server_info: dict[str, Any]) -> dict[str, str]:
    """Everything the report header prints, as display strings."""
    ws_info = server_info.get("ws", {})
    impl = ws_info.get("impl", "node")
    if impl == "node":
        servers = (f"Node {ws_info.get('node')} · ws {ws_info.get('ws')} · bufferutil "
                   f"{ws_info.get('bufferutil_version')} "
                   f"({'native addon loaded' if ws_info.get('bufferutil') else 'NOT loaded'})")
    else:
        servers = f"Python fallback (websockets {ws_info.get('websockets')}) — not comparable"
    return {
        "Date (UTC)": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
        "CPU": f"{cpu_model()} · {os.cpu_count()} cores",
        "OS": f"{platform.system()} {platform.release()}",
        "Python": f"{platform.python_implementation()} {platform.python_version()}",
        "Echo servers": servers,
        "syncws": f"{syncws_version()} (C speedups: "
                  f"{'yes' if _compiled('syncws.protocol._speedups') else 'no'})",
        "websockets": f"{_version('websockets')} (C speedups: "
                      f"{'yes' if _compiled('websockets.speedups') else 'no'})",
        "aiohttp": f"{_version('aiohttp')} (C extensions: "
                   f"{'yes' if _compiled('aiohttp._websocket.reader_c') else 'no'})",
        "websocket-client": _version("websocket-client"),
        "Commit": git_commit(),
        "Interpreter": sys.executable,
    }
