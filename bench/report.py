"""Turn run records into medians, ratios and the Markdown report."""
from __future__ import annotations

import statistics
from typing import Any

from bench.clients import ASYNC_BASELINE, BASELINE, ClientInfo
from bench.config import MIB, Scenario

Key = tuple[str, str, str]  # (mode, scenario id, client)
EXTRAS = ("peak_threads", "peak_rss_kib", "rss_per_conn_kib", "p50_ms", "idle_p99_ms", "big_messages")


def summarize(records: list[dict[str, Any]]) -> dict[Key, dict[str, Any]]:
    """Median / min / max over the timed repetitions (warm-ups excluded)."""
    groups: dict[Key, list[dict[str, Any]]] = {}
    for rec in records:
        groups.setdefault((rec["mode"], rec["sid"], rec["client"]), []).append(rec)
    out: dict[Key, dict[str, Any]] = {}
    for key, recs in groups.items():
        ok = [r for r in recs if r["status"] == "ok" and r["rep"] >= 0]
        statuses = {r["status"] for r in recs}
        row: dict[str, Any] = {"n": len(ok), "status": "ok" if ok else _worst(statuses),
                               "failures": sum(r["status"] == "fail" for r in recs)}
        if ok:
            values = [r["value"] for r in ok]
            row.update(median=statistics.median(values), min=min(values), max=max(values))
            row["client_cpu"] = statistics.median(r["client_cpu"] for r in ok)
            server = [r["server_cpu"] for r in ok if r.get("server_cpu") is not None]
            row["server_cpu"] = statistics.median(server) if server else None
            row["other_cpu"] = statistics.median(r.get("other_cpu", 0.0) for r in ok)
            for extra in EXTRAS:
                if all(extra in r for r in ok):
                    row[extra] = statistics.median(r[extra] for r in ok)
        out[key] = row
    return out


def _worst(statuses: set[str]) -> str:
    for status in ("fail", "unavailable", "n/a"):
        if status in statuses:
            return status
    return "no data"


def fmt(value: float, unit: str) -> str:
    """Headline number with precision suited to its unit."""
    if unit.endswith("/s") and unit != "MB/s":
        return f"{value:,.0f}"
    if unit == "MB/s":
        return f"{value:,.1f}"
    return f"{value:,.3f}"


def ratio(row: dict[str, Any] | None, base: dict[str, Any] | None, sc: Scenario) -> str:
    """How many times better than ``base`` (>1 is better, whatever the unit's direction)."""
    if not row or not base or "median" not in row or "median" not in base:
        return "—"
    r = row["median"] / base["median"] if sc.higher_is_better else base["median"] / row["median"]
    return f"{r:.2f}x"


def workload(sc: Scenario) -> str:
    """Human description of the counts actually run."""
    if sc.kind == "small":
        return f"{sc.count:,} round trips of {sc.size} B"
    if sc.kind == "pipelined":
        return f"{sc.count:,} messages of {sc.size:,} B"
    if sc.kind == "large":
        return f"{sc.count:,} echoes of {sc.size / MIB:g} MiB"
    if sc.kind == "compressed":
        return f"{sc.count:,} echoes of ~{sc.size / MIB:g} MiB JSON"
    if sc.kind == "connect":
        return f"{sc.count:,} connections"
    if sc.kind == "stall":
        return (f"{sc.conns} connections x {sc.count} round trips of 1 KiB JSON, alone (idle p99) and "
                f"while one more connection receives {sc.size / MIB:g} MiB compressed JSON texts back to back; "
                "all with permessage-deflate")
    if sc.kind == "burst":
        return (f"{sc.count:,} bursts of {sc.batch} x {sc.size} B text, each written by the "
                f"server in one write; latency per message from sending the trigger")
    return f"{sc.conns:,} connections x {sc.count} round trips"


def _cell(row: dict[str, Any] | None) -> str:
    if not row:
        return "—"
    status = str(row["status"])
    if status != "ok":
        return status.upper() if status == "fail" else status
    return ""


def scenario_table(mode: str, sc: Scenario, clients: list[ClientInfo],
                   stats: dict[Key, dict[str, Any]]) -> list[str]:
    """One Markdown table: every client on one scenario in one pinning mode."""
    many = sc.kind == "many"
    burst = sc.kind == "burst"
    stall = sc.kind == "stall"
    better = "higher" if sc.higher_is_better else "lower"
    lines = [f"#### {sc.sid} — {sc.title}", "",
             f"{workload(sc)}; {sc.unit}, {better} is better.", ""]
    head = ["client", f"median ({sc.unit})", "min-max", f"vs {BASELINE}", f"vs {ASYNC_BASELINE}",
            "client CPU s", "server CPU s", "other CPU s"]
    if many:
        head += ["peak threads", "peak RSS MiB", "RSS/conn KiB"]
    if burst:
        head.insert(3, "p50 ms")
    if stall:
        head[3:3] = ["idle p99 ms", "big received"]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" + "---:|" * (len(head) - 1)]
    base = stats.get((mode, sc.sid, BASELINE))
    abase = stats.get((mode, sc.sid, ASYNC_BASELINE))
    for info in clients:
        row = stats.get((mode, sc.sid, info.name))
        name = f"{info.name} (async)" if info.is_async else info.name
        if not row or "median" not in row:
            lines.append(f"| {name} | {_cell(row) or '—'} |" + " — |" * (len(head) - 2))
            continue
        flag = f" ({row['failures']} failed)" if row["failures"] else ""
        server = "—" if row["server_cpu"] is None else f"{row['server_cpu']:.3f}"
        cells = [name, fmt(row["median"], sc.unit) + flag,
                 f"{fmt(row['min'], sc.unit)}-{fmt(row['max'], sc.unit)}",
                 ratio(row, base, sc), ratio(row, abase, sc) if info.is_async else "—",
                 f"{row['client_cpu']:.3f}", server, f"{row['other_cpu']:.2f}"]
        if burst:
            cells.insert(3, fmt(row["p50_ms"], "ms") if "p50_ms" in row else "—")
        if stall:
            cells[3:3] = [fmt(row["idle_p99_ms"], "ms") if "idle_p99_ms" in row else "—",
                          f"{row.get('big_messages', 0):.0f}"]
        if many:
            cells += [f"{row.get('peak_threads', 0):.0f}",
                      f"{row.get('peak_rss_kib', 0) / 1024:.1f}",
                      f"{row.get('rss_per_conn_kib', 0):.1f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return [*lines, ""]


def summary_table(mode: str, scenarios: list[Scenario], clients: list[ClientInfo],
                  stats: dict[Key, dict[str, Any]]) -> list[str]:
    """Clients x scenarios, each cell the speed-up over websockets.sync."""
    head = ["client", *(sc.sid for sc in scenarios)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" + "---:|" * len(scenarios)]
    for info in clients:
        cells = [info.name]
        for sc in scenarios:
            row = stats.get((mode, sc.sid, info.name))
            base = stats.get((mode, sc.sid, BASELINE))
            cells.append(ratio(row, base, sc) if row and "median" in row else _cell(row) or "—")
        lines.append("| " + " | ".join(cells) + " |")
    return [*lines, ""]


def markdown(meta: dict[str, str], settings: dict[str, str], modes: list[tuple[str, str]],
             scenarios: list[Scenario], clients: list[ClientInfo],
             records: list[dict[str, Any]]) -> str:
    """The whole report: header facts, how to read it, per-mode summary and tables, failures."""
    stats = summarize(records)
    out = ["# syncws benchmark results", ""]
    out += [f"- **{k}:** {v}" for k, v in {**meta, **settings}.items()]
    out += ["", HOW_TO_READ, ""]
    for mode, description in modes:
        out += [f"## {mode}: {description}", "",
                f"### Summary: speed relative to {BASELINE} (median; >1.00x is faster)", ""]
        out += summary_table(mode, scenarios, clients, stats)
        out += ["### Details", ""]
        for sc in scenarios:
            out += scenario_table(mode, sc, clients, stats)
    failures = [r for r in records if r["status"] == "fail"]
    if failures:
        out += ["## Failures", ""]
        for r in failures:
            rep = "warm-up" if r["rep"] < 0 else f"rep {r['rep'] + 1}"
            out.append(f"- {r['mode']} {r['sid']} {r['client']} ({rep}): {r.get('error', '')}")
        out.append("")
    return "\n".join(out)


HOW_TO_READ = """\
**How to read this.** Every number is the median of the timed repetitions, each
run in a fresh client process (warm-up runs excluded); min-max shows the spread.
Ratios are "times better than the baseline" whatever the unit (for ms and s the
inverse is taken), so >1.00x always means faster. Client CPU is the client
process's CPU time over the timed section (all threads); server CPU is the echo
server's over the same section; other CPU is the machine's remaining busy time
meanwhile (other processes, plus interrupt work charged to no process; 10 ms
resolution): well above zero means another workload competed, so trust that
row less. S3 and S6 count payload bytes out + back
(MB = 10^6 bytes). S5 wall time covers connect + all round trips + close of every
connection; peak threads are OS threads in the client process; RSS/conn is
(peak RSS - RSS before connecting) / connections. S7 times every message of a
10-message burst the server writes at once, from sending the trigger to that
message's return; its headline (and ratios) is the p99 of those latencies, p50
beside it. S8 is S5 with permessage-deflate and 1 KiB JSON. S9's headline is the
p99 of 50 connections' small round trips while one more connection receives 16 MiB
JSON texts the server compressed once beforehand (all connections compressed), with
the same p99 measured just before, alone (idle p99), and the number of big messages
received meanwhile. `+zlib-ng` rows compress with zlib-ng (syncws[speedups];
aiohttp's `set_zlib_backend`); the plain syncws rows use the standard library's zlib. `raw-socket` is a hand-framed
WebSocket client (pure-Python masking): the floor for a Python client.
`tcp-floor` runs the same scenarios over plain TCP against a TCP echo server
(no handshake, no masking): what the socket and interpreter cost alone."""
