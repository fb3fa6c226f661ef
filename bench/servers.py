"""Start, describe and stop the echo servers, each in its own (optionally pinned) process.

Servers read a pipe from the runner on stdin and exit at EOF, and also get
SIGKILL from the kernel if the runner dies, so none outlive a run.
"""
from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from bench.deps import SERVER_DIR
from bench.procutil import pin_process

KINDS = ("ws", "ws-deflate", "tcp")


class ServerError(RuntimeError):
    """A server did not come up (or came up without what the full run requires)."""


@dataclass
class Server:
    """One running echo server."""

    kind: str
    port: int
    pid: int
    info: dict[str, Any]
    proc: subprocess.Popen[bytes] = field(repr=False)

    @property
    def url(self) -> str:
        """The URL clients connect to (the TCP floor ignores the scheme)."""
        return f"ws://127.0.0.1:{self.port}/"


def _command(kind: str, impl: str) -> list[str]:
    if impl == "node":
        return ["node", str(SERVER_DIR / "echo.js"), kind]
    return [sys.executable, str(SERVER_DIR / "echo_server.py"), kind]


def start(kind: str, impl: str, cpus: set[int] | None, timeout: float = 20.0) -> Server:
    """Launch one server and wait for its JSON ready line."""
    env = dict(os.environ)
    env.pop("WS_NO_BUFFER_UTIL", None)  # would silently disable the native addon
    proc = subprocess.Popen(
        _command(kind, impl), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        env=env, cwd=SERVER_DIR,
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    line = b""
    while not line.endswith(b"\n"):
        left = deadline - time.monotonic()
        ready, _, _ = select.select([proc.stdout], [], [], max(0.0, left))
        if not ready:
            stop_one(proc)
            raise ServerError(f"{impl} {kind} server not ready after {timeout:.0f}s")
        chunk = os.read(proc.stdout.fileno(), 4096)
        if not chunk:
            raise ServerError(f"{impl} {kind} server exited with {proc.wait()}")
        line += chunk
    info = json.loads(line.decode())
    info.setdefault("impl", impl)
    if cpus:
        pin_process(proc.pid, cpus)
    return Server(kind, int(info["port"]), proc.pid, info, proc)


def stop_one(proc: subprocess.Popen[bytes]) -> None:
    """Close its stdin (the polite stop), then escalate."""
    if proc.stdin is not None:
        proc.stdin.close()
    try:
        proc.wait(timeout=3)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class ServerSet:
    """The three servers for one pinning mode, as a context manager."""

    def __init__(self, impl: str, cpus: set[int] | None, need_bufferutil: bool) -> None:
        self.impl = impl
        self.cpus = cpus
        self.need_bufferutil = need_bufferutil
        self.servers: dict[str, Server] = {}
        self.restarts: list[str] = []

    def get(self, kind: str) -> Server:
        """The live server of ``kind``, restarted first if something killed it.

        On a shared machine another job may kill stray node processes; one lost
        server must not fail every remaining measurement.
        """
        server = self.servers[kind]
        code = server.proc.poll()
        if code is None:
            return server
        how = f"signal {-code}" if code < 0 else f"exit code {code}"
        note = f"{kind} server (pid {server.pid}) died ({how}); restarted"
        print(f"[bench] WARNING: {note}", file=sys.stderr)
        self.restarts.append(note)
        self.servers[kind] = start(kind, self.impl, self.cpus)
        if self.impl == "node":
            self._check_bufferutil()
        return self.servers[kind]

    def alive(self, kind: str) -> bool:
        """Whether the current server of ``kind`` is still running."""
        return self.servers[kind].proc.poll() is None

    def __enter__(self) -> ServerSet:
        try:
            for kind in KINDS:
                self.servers[kind] = start(kind, self.impl, self.cpus)
            if self.impl == "node":
                self._check_bufferutil()
        except BaseException:
            self.close()
            raise
        return self

    def _check_bufferutil(self) -> None:
        for kind in ("ws", "ws-deflate"):
            if not self.servers[kind].info.get("bufferutil"):
                msg = (f"the {kind} server runs without the native bufferutil addon "
                       "(prebuild missing for this platform?); it would cap 1 MiB echoes")
                if self.need_bufferutil:
                    raise ServerError(msg)
                print(f"[bench] WARNING: {msg}", file=sys.stderr)

    def close(self) -> None:
        """Stop every server that started."""
        for server in self.servers.values():
            stop_one(server.proc)

    def __exit__(self, *exc: object) -> None:
        self.close()
