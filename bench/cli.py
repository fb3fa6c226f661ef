"""Command line: ``python -m bench [--quick] [--pin both|on|off] ...``."""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from bench import config, deps, report, runner, sysinfo
from bench.clients import BY_NAME, CLIENTS, ClientInfo
from bench.deps import BENCH_DIR, log
from bench.procutil import all_cpus, cpu_plan
from bench.servers import ServerError, ServerSet

MODE_TEXT = {
    "pinned": "server pinned to CPU {s}, client to CPU {c}",
    "unpinned": "no pinning (scheduler places server and client)",
}


def parse(argv: list[str]) -> argparse.Namespace:
    """Options; defaults are the full, reportable run."""
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--quick", action="store_true",
                   help="CI smoke test: tiny counts, one run each, exit 1 on any wrong echo")
    p.add_argument("--pin", choices=("both", "on", "off"), default=None,
                   help="pinned run, unpinned run, or both (default: both; --quick: off)")
    p.add_argument("--unpinned", action="store_true", help="same as --pin off")
    p.add_argument("--reps", type=int, default=5, help="timed repetitions (default 5, min 1)")
    p.add_argument("--warmup", type=int, default=1, help="warm-up rounds (default 1)")
    p.add_argument("--scale", type=float, default=1.0,
                   help="multiply every message/connect count (not S5's connection counts)")
    p.add_argument("--clients", help="comma list, e.g. syncws,websockets.sync (default: all)")
    p.add_argument("--scenarios", help="comma list, e.g. S1,S3,S5-200 (default: all)")
    p.add_argument("--timeout", type=float, default=None,
                   help="seconds per client process (default 300; --quick: 30)")
    p.add_argument("--quiet-wait", type=float, default=None,
                   help="before each run wait up to S seconds for other load to stop "
                        "(default 20, at most 900 s in all; --quick: 0)")
    p.add_argument("--output", type=Path, default=None,
                   help="Markdown file (default bench/RESULTS.md for full runs; none for --quick)")
    p.add_argument("--python-server", action="store_true",
                   help="use the Python echo servers (only with --quick)")
    args = p.parse_args(argv)
    if args.unpinned:
        args.pin = "off"
    if args.pin is None:
        args.pin = "off" if args.quick else "both"
    if args.quick:
        args.reps, args.warmup = 1, 0
    if args.reps < 1:
        p.error("--reps must be at least 1")
    if args.python_server and not args.quick:
        p.error("the full run requires the Node servers; --python-server is for --quick")
    if args.quiet_wait is None:
        args.quiet_wait = 0.0 if args.quick else 20.0
    if args.timeout is None:
        args.timeout = 30.0 if args.quick else 300.0
    return args


def _clients(spec: str | None) -> list[ClientInfo]:
    if not spec:
        return list(CLIENTS)
    unknown = [n for n in spec.split(",") if n not in BY_NAME]
    if unknown:
        raise SystemExit(f"unknown clients: {unknown}; known: {list(BY_NAME)}")
    return [BY_NAME[n] for n in spec.split(",")]


def _server_impl(args: argparse.Namespace) -> str:
    if args.python_server:
        log("using the Python echo servers (--python-server)")
        return "python"
    problem = deps.node_problem()
    if problem is None:
        return "node"
    if args.quick:
        log(f"Node echo servers unavailable ({problem}); FALLING BACK to the Python "
            "websockets echo servers: correctness only, numbers are not comparable")
        return "python"
    raise SystemExit(f"[bench] the full run requires Node: {problem}")


def _modes(pin: str) -> list[tuple[str, set[int], set[int], str]]:
    """(name, server CPUs, client CPUs, description) per requested mode."""
    modes = []
    plan = cpu_plan()
    if pin in ("both", "on"):
        if plan is None:
            log("fewer than two CPUs available: skipping the pinned mode")
        else:
            s, c = plan
            modes.append(("pinned", s, c, MODE_TEXT["pinned"].format(s=min(s), c=min(c))))
    if pin in ("both", "off") or not modes:
        cpus = all_cpus()
        modes.append(("unpinned", cpus, cpus, MODE_TEXT["unpinned"]))
    return modes


def main(argv: list[str] | None = None) -> int:
    """Install peers, start servers per mode, run the matrix, report."""
    args = parse(sys.argv[1:] if argv is None else argv)
    started = time.monotonic()
    missing = deps.ensure_python_peers()
    if missing:
        log(f"still missing after pip: {missing}; those clients will report unavailable")
    impl = _server_impl(args)
    clients = _clients(args.clients)
    scenarios = config.scenarios(args.quick, args.scale, args.scenarios.split(",")
                                 if args.scenarios else None)
    records: list[dict[str, Any]] = []
    server_info: dict[str, Any] = {}
    restarts: list[str] = []
    modes = _modes(args.pin)
    gate = runner.QuietGate(args.quiet_wait)
    for name, server_cpus, client_cpus, text in modes:
        log(f"mode {name}: {text}")
        try:
            with ServerSet(impl, server_cpus, need_bufferutil=not args.quick) as servers:
                server_info = {k: s.info for k, s in servers.servers.items()}
                log("servers: " + json.dumps(server_info))
                records += runner.run_matrix(name, clients, scenarios, servers, client_cpus,
                                             args.reps, args.warmup, args.timeout, gate)
                restarts += [f"{name}: {note}" for note in servers.restarts]
        except ServerError as exc:
            raise SystemExit(f"[bench] {exc}") from exc
    elapsed = time.monotonic() - started
    settings = {
        "Mode": "quick smoke test" if args.quick else "full",
        "Pinning": "; ".join(f"{n}: {t}" for n, _, _, t in modes),
        "Repetitions": f"{args.reps} timed + {args.warmup} warm-up round(s), clients rotated",
        "Counts scale": f"{args.scale:g}",
        "Waited for other load": f"{sum(r.get('waited_s', 0) for r in records):.0f} s in total "
                                 f"(up to {args.quiet_wait:g} s before each run, 900 s in all)",
        "Total bench time": f"{elapsed / 60:.1f} min",
    }
    if restarts:
        settings["Server restarts"] = "; ".join(restarts)
    text = report.markdown(sysinfo.collect(server_info), settings,
                           [(n, t) for n, _, _, t in modes], scenarios, clients, records)
    print(text)
    output = args.output or (None if args.quick else BENCH_DIR / "RESULTS.md")
    if output is not None:
        output.write_text(text + "\n")
        output.with_suffix(".json").write_text(json.dumps(records, indent=1) + "\n")
        log(f"wrote {output} and {output.with_suffix('.json').name}")
    return _verdict(records, args.quick)


def _verdict(records: list[dict[str, Any]], quick: bool) -> int:
    """Exit status: 1 if any run failed (wrong echo, error, timeout)."""
    passed = sum(r["status"] == "ok" for r in records)
    failed = sum(r["status"] == "fail" for r in records)
    skipped = len(records) - passed - failed
    print(f"bench: {passed} passed, {failed} failed, {skipped} skipped")
    if failed:
        log("FAILED: " + "; ".join(f"{r['mode']} {r['sid']} {r['client']}: {r.get('error')}"
                                   for r in records if r["status"] == "fail"))
    elif quick:
        log("quick smoke test passed: every echo correct (content and order)")
    return 1 if failed else 0
