"""Run the client x scenario matrix: one fresh, pinned worker process per measurement.

Clients are interleaved and rotated (A B C, B C A, ...) so slow drift in the
machine (thermal, page cache, TIME_WAIT build-up) spreads over every client.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Any

from bench.clients import ClientInfo
from bench.config import Scenario
from bench.deps import BENCH_DIR, log
from bench.meter import machine_busy
from bench.servers import Server, ServerSet
from bench.worker import RESULT_PREFIX

REPO_ROOT = BENCH_DIR.parent
SKIP_STATUSES = ("unavailable", "n/a")


def _env() -> dict[str, str]:
    env = dict(os.environ)
    path = env.get("PYTHONPATH")
    env["PYTHONPATH"] = str(REPO_ROOT) + (os.pathsep + path if path else "")
    return env


def run_one(info: ClientInfo, sc: Scenario, server: Server, cpus: set[int] | None,
            timeout: float) -> dict[str, Any]:
    """Run one client on one scenario in a new process and return its result record."""
    spec = {
        "client": info.name, "scenario": sc.to_json(), "url": server.url,
        "server_pid": server.pid, "timeout": timeout,
        "cpus": sorted(cpus) if cpus else None, "parent": os.getpid(),
    }
    cmd = [sys.executable, "-m", "bench.worker", json.dumps(spec)]
    try:
        done = subprocess.run(cmd, cwd=REPO_ROOT, env=_env(), capture_output=True, text=True,
                              timeout=timeout + 30, check=False)
    except subprocess.TimeoutExpired:
        return {"status": "fail", "error": f"killed after {timeout + 30:.0f}s"}
    for line in reversed(done.stdout.splitlines()):
        if line.startswith(RESULT_PREFIX):
            out: dict[str, Any] = json.loads(line[len(RESULT_PREFIX):])
            if out["status"] == "fail":
                out["stderr"] = done.stderr[-3000:]
            return out
    why = "watchdog timeout" if "Timeout" in done.stderr[:2000] else f"exit code {done.returncode}"
    return {"status": "fail", "error": f"no result ({why})", "stderr": done.stderr[-3000:]}


class QuietGate:
    """Before each run, wait until the machine is nearly idle (bounded per run and in total).

    On a shared machine another job's burst would land in one client's numbers;
    waiting it out keeps the comparison fair. The total budget keeps a machine
    that never goes quiet from stretching the run without limit.
    """

    def __init__(self, max_wait: float, budget: float = 900.0) -> None:
        self.max_wait = max_wait
        self.budget = budget

    def wait(self, window: float = 0.2, limit: float = 0.15) -> float:
        """Seconds waited; busy is measured over all CPUs, in CPUs used."""
        waited = 0.0
        while self.max_wait > 0 and self.budget > 0:
            before = machine_busy()
            time.sleep(window)
            waited += window
            self.budget -= window
            if (machine_busy() - before) / window <= limit or waited >= self.max_wait:
                break
        return waited


def _rotate(items: list[ClientInfo], k: int) -> list[ClientInfo]:
    if not items:
        return items
    k %= len(items)
    return items[k:] + items[:k]


def _describe(sc: Scenario, rec: dict[str, Any]) -> str:
    if rec["status"] != "ok":
        return f"{rec['status']}: {rec.get('error', '')}"
    return f"{rec['value']:.4g} {sc.unit}"


def run_matrix(
    mode: str, clients: list[ClientInfo], scenarios: list[Scenario],
    servers: ServerSet, cpus: set[int] | None,
    reps: int, warmup: int, timeout: float, gate: QuietGate | None = None,
) -> list[dict[str, Any]]:
    """Warm-up rounds, then ``reps`` rotated rounds, per scenario; returns every record."""
    records: list[dict[str, Any]] = []
    for sc in scenarios:
        active = list(clients)
        rounds = [("warm-up", -1 - w) for w in range(warmup)]
        rounds += [(f"rep {r + 1}/{reps}", r) for r in range(reps)]
        for label, rep in rounds:
            for info in _rotate(active, max(rep, 0)):
                kind = "tcp" if info.transport == "tcp" else sc.server
                waited = gate.wait() if gate else 0.0
                rec = run_one(info, sc, servers.get(kind), cpus, timeout)
                if rec["status"] == "fail" and not servers.alive(kind):
                    # The server was killed under us: not the client's fault, run it again.
                    log(f"[{mode}] {sc.sid} {info.name}: server died during the run; retrying")
                    rec = run_one(info, sc, servers.get(kind), cpus, timeout)
                    rec["retried"] = True
                rec.update(mode=mode, sid=sc.sid, client=info.name, rep=rep, waited_s=waited)
                records.append(rec)
                log(f"[{mode}] {sc.sid} {label} {info.name}: {_describe(sc, rec)}")
                if rec["status"] == "fail" and rec.get("stderr"):
                    print(rec["stderr"], file=sys.stderr)
            # Missing libraries and unsupported features won't change between rounds.
            active = [c for c in active if not _skipped(records, mode, sc.sid, c.name)]
    return records


def _skipped(records: list[dict[str, Any]], mode: str, sid: str, client: str) -> bool:
    return any(r["mode"] == mode and r["sid"] == sid and r["client"] == client
               and r["status"] in SKIP_STATUSES for r in records)
