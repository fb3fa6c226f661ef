"""The long versions of the reliability tests, with a report. Not run in CI.

    python -m tests.reliability.soak                 # everything, full size
    python -m tests.reliability.soak --load --connections 1000 --messages 1000000
    python -m tests.reliability.soak --cycles 10000 --interrupts 1000 --exit
    python -m tests.reliability.soak --json report.json

--load        N connections (threads) from this process to an echo server in
              another process, M messages in total, each echoed in order;
              reports wall time, peak RSS, RSS per connection, lost/duplicated.
--cycles      connect/close cycles, then threads, fds, syncws-loop tasks and
              open connections compared with before (must be equal).
--interrupts  SIGINT rounds during connect, send, receive and close.
--exit        how long the interpreter takes to exit with open connections
              (and a daemon thread blocked in receive), after sending 1001.
Every loop is bounded; every server listens on 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import json
import resource
import signal
import subprocess
import sys
import textwrap
import time
from typing import Any, Callable, Dict

import syncws
from tests.reliability import test_faults, test_interrupts
from tests.reliability.load import run_load
from tests.reliability.support import EchoServerProcess, Snapshot, settle, status_kib, wait_until
from tests.servers import RawPeer, RawServer, Script, ServerLoop, frame, start_websockets


def raise_fd_limit(wanted: int) -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted:
        soft = min(wanted, hard) if hard != resource.RLIM_INFINITY else wanted
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    return soft


def soak_load(connections: int, messages: int, payload: int) -> Dict[str, Any]:
    raise_fd_limit(4 * connections + 256)
    server = EchoServerProcess(backlog=max(1024, connections), max_seconds=3600)
    try:
        r = run_load(server.url, connections, max(1, messages // connections), payload_size=payload, timeout=600)
        server_peak = server.peak_rss_kib()
    finally:
        server.stop()
    return {
        "connections": r.connections,
        "concurrent_peak": r.concurrent_peak,
        "messages": r.messages_total,
        "echoed": r.messages_echoed,
        "lost": r.lost,
        "duplicated": r.duplicated,
        "out_of_order": r.out_of_order,
        "errors": r.errors[:5],
        "connect_s": round(r.connect_seconds, 2),
        "exchange_s": round(r.exchange_seconds, 2),
        "wall_s": round(r.wall_seconds, 2),
        "messages_per_s": round(r.messages_total / r.exchange_seconds) if r.exchange_seconds else None,
        "client_rss_before_mib": round(r.rss_before_kib / 1024, 1),
        "client_rss_all_open_mib": round(r.rss_all_connected_kib / 1024, 1),
        "client_peak_rss_mib": round(r.peak_rss_kib / 1024, 1),
        "client_rss_per_connection_kib": round(r.rss_per_connection_kib, 1),
        "server_peak_rss_mib": round(server_peak / 1024, 1),
        "ok": r.ok,
    }


class Servers:
    def __init__(self) -> None:
        self.loop = ServerLoop()
        self.ws, port = self.loop.run(start_websockets())
        self.ws_url = f"ws://127.0.0.1:{port}"
        self.raw: list = []

    def raw_server(self, script: Script) -> RawServer:
        server = RawServer(script)
        self.loop.run(server.start())
        self.raw.append(server)
        return server

    def stop(self) -> None:
        for s in self.raw:
            self.loop.run(s.stop())
        self.ws.close()
        self.loop.stop()


def soak_cycles(servers: Servers, cycles: int) -> Dict[str, Any]:
    with syncws.connect(servers.ws_url, compress=0) as ws:  # warm up
        ws.send_str("warm")
        ws.receive(timeout=10)
    wait_until(ws._proto.lost.done, what="the warm-up connection settled")  # at the sweeper's next tick
    before = Snapshot.take()
    start = time.monotonic()
    test_faults.CYCLES = cycles
    test_faults.test_connect_close_cycles_leak_nothing(servers.ws_url)
    elapsed = time.monotonic() - start
    after = settle(before)
    return {
        "cycles": cycles,
        "seconds": round(elapsed, 2),
        "threads": [len(before.threads), len(after.threads)],
        "fds": [before.fds, after.fds],
        "syncws_tasks": [before.tasks, after.tasks],
        "open_connections": [before.connections, after.connections],
        "equal": after == before,
    }


def soak_interrupts(servers: Servers, rounds: int) -> Dict[str, Any]:
    test_interrupts.ROUNDS = rounds
    out: Dict[str, Any] = {"rounds": rounds}
    cases: Dict[str, Callable[[], None]] = {
        "connect": lambda: test_interrupts.test_sigint_during_connect(servers.raw_server),
        "send": lambda: test_interrupts.test_sigint_during_send_blocked_by_backpressure(servers.raw_server),
        "receive": lambda: test_interrupts.test_sigint_during_receive(servers.ws_url),
        "close": lambda: test_interrupts.test_sigint_during_close(servers.raw_server),
    }
    before = Snapshot.take()
    started = len(servers.raw)
    for name, case in cases.items():
        test_interrupts.DEFERRED[0] = 0
        start = time.monotonic()
        try:
            case()
            result = "ok"
        except AssertionError as exc:
            result = f"FAILED: {exc}"[:300]
        out[name] = {
            "result": result,
            "seconds": round(time.monotonic() - start, 2),
            "signals_deferred": test_interrupts.DEFERRED[0],
        }
    for server in servers.raw[started:]:  # the test servers' own listening sockets
        servers.loop.run(server.stop())
    after = settle(before)
    out["leaks"] = None if after.within(before) else before.diff(after)
    return out


def soak_exit(servers: Servers, repeats: int) -> Dict[str, Any]:
    """Time from the end of the main module to process exit, with open connections."""

    async def answering(peer: RawPeer) -> None:
        await peer.handshake()
        code, _ = await peer.read_close()
        peer.send(frame(8, code.to_bytes(2, "big")))

    async def deaf(peer: RawPeer) -> None:
        await peer.handshake()
        await peer.at_eof()

    results: Dict[str, Any] = {}
    for label, script in (("server answers the close", answering), ("server never answers", deaf)):
        server = servers.raw_server(script)
        program = textwrap.dedent(
            f"""
            import threading, time, syncws
            conns = [syncws.connect({server.url!r}) for _ in range(10)]
            ready = threading.Event()
            def block():
                ready.set()
                conns[0].receive()
            threading.Thread(target=block, daemon=True).start()
            ready.wait()
            print(time.time(), flush=True)
            """
        )
        latencies = []
        for _ in range(repeats):
            proc = subprocess.Popen([sys.executable, "-c", program], stdout=subprocess.PIPE, text=True)
            assert proc.stdout is not None
            line = proc.stdout.readline()
            proc.wait(30)
            ended = time.time()
            proc.stdout.close()
            latencies.append(ended - float(line))
        results[label] = {
            "runs": repeats,
            "max_s": round(max(latencies), 3),
            "mean_s": round(sum(latencies) / len(latencies), 3),
        }
    return results


def main() -> int:
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:  # started in the background of a script
        signal.signal(signal.SIGINT, signal.default_int_handler)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--load", action="store_true")
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=1_000_000, help="in total, over all connections")
    parser.add_argument("--payload", type=int, default=32, help="bytes per message")
    parser.add_argument("--cycles", type=int, default=0, help="connect/close cycles for the leak check")
    parser.add_argument("--interrupts", type=int, default=0, help="SIGINT rounds per operation")
    parser.add_argument("--exit", action="store_true", help="measure interpreter exit latency")
    parser.add_argument("--exit-repeats", type=int, default=5)
    parser.add_argument("--json", help="also write the report here")
    args = parser.parse_args()
    if not (args.load or args.cycles or args.interrupts or args.exit):
        args.load, args.cycles, args.interrupts, args.exit = True, 10_000, 1000, True

    report: Dict[str, Any] = {"python": sys.version.split()[0], "syncws": syncws.__version__}
    if args.load:
        report["load"] = soak_load(args.connections, args.messages, args.payload)
        print(json.dumps({"load": report["load"]}, indent=2), flush=True)
    servers = Servers()
    try:
        if args.cycles:
            report["cycles"] = soak_cycles(servers, args.cycles)
            print(json.dumps({"cycles": report["cycles"]}, indent=2), flush=True)
        if args.interrupts:
            report["interrupts"] = soak_interrupts(servers, args.interrupts)
            print(json.dumps({"interrupts": report["interrupts"]}, indent=2), flush=True)
        if args.exit:
            report["exit"] = soak_exit(servers, args.exit_repeats)
            print(json.dumps({"exit": report["exit"]}, indent=2), flush=True)
    finally:
        servers.stop()
    report["process_peak_rss_mib"] = round(status_kib("VmHWM") / 1024, 1)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)
    ok = report.get("load", {}).get("ok", True) and report.get("cycles", {}).get("equal", True)
    ok = ok and all(
        v.get("result") == "ok" for k, v in report.get("interrupts", {}).items() if isinstance(v, dict)
    )
    print("soak:", "OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
