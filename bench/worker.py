"""One client run in a fresh process: ``python -m bench.worker '<json spec>'``.

A fresh process per run keeps imports, caches, threads and RSS of one client
from leaking into the next. The result is one ``BENCH_RESULT {json}`` line.
A faulthandler watchdog ends a hung run (dumping every thread's stack).
"""
from __future__ import annotations

import faulthandler
import json
import os
import resource
import sys
import time
from typing import Any

from bench.procutil import die_with_parent

RESULT_PREFIX = "BENCH_RESULT "


def _raise_fd_limit() -> None:
    """S5 holds 1,000 sockets (2,000 fds for some clients); lift the soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def run(spec: dict[str, Any]) -> dict[str, Any]:
    """Load the adapter and run the scenario named in ``spec``."""
    from bench import clients
    from bench.config import Scenario

    info = clients.BY_NAME[spec["client"]]
    sc = Scenario.from_json(spec["scenario"])
    try:
        client = clients.load(info)
    except clients.ClientUnavailable as exc:
        return {"status": "unavailable", "error": str(exc)}
    if info.zlib == "zlib-ng" and sc.server != "ws-deflate":
        return {"status": "n/a", "error": "zlib backends only differ with permessage-deflate"}
    if sc.server == "ws-deflate" and not client.supports_deflate:
        return {"status": "n/a", "error": f"{info.name} has no permessage-deflate"}
    if info.is_async:
        from bench import scenarios_async

        out = scenarios_async.run(client, sc, spec["url"], spec.get("server_pid"))  # type: ignore[arg-type]
    else:
        from bench import scenarios_sync

        out = scenarios_sync.run(client, sc, spec["url"], spec.get("server_pid"))  # type: ignore[arg-type]
    out["status"] = "ok"
    return out


def _emit(out: dict[str, Any], started: float) -> None:
    out["process_s"] = time.perf_counter() - started
    print(RESULT_PREFIX + json.dumps(out), flush=True)


def main(argv: list[str]) -> int:
    """Parse the spec, arm the watchdog, print exactly one result line."""
    spec = json.loads(argv[1])
    if spec.get("cpus"):
        os.sched_setaffinity(0, set(spec["cpus"]))  # before any thread exists: all inherit
    if spec.get("parent"):
        die_with_parent(int(spec["parent"]))
    faulthandler.dump_traceback_later(float(spec.get("timeout", 300)), exit=True)
    _raise_fd_limit()
    started = time.perf_counter()
    try:
        out = run(spec)
    except BaseException as exc:
        _emit({"status": "fail", "error": f"{type(exc).__name__}: {exc}"}, started)
        raise  # the traceback goes to stderr, which the runner keeps for the report
    _emit(out, started)
    return 0 if out["status"] in ("ok", "unavailable", "n/a") else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
