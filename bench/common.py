"""Pieces shared by the sync and async scenario code."""
from __future__ import annotations

import math
from typing import Any

from bench.config import Scenario
from bench.meter import Meter, PeakSampler


class EchoError(AssertionError):
    """An echo came back wrong (content, type or order): always a hard failure."""


def mismatch(sid: str, index: int, expected: object, got: object) -> EchoError:
    """Build a short, readable error for a wrong echo."""
    return EchoError(f"{sid} message {index}: expected {_short(expected)}, got {_short(got)}")


def _short(value: object) -> str:
    text = repr(value)
    return f"{type(value).__name__} len={_len(value)} {text[:48]}"


def _len(value: object) -> int | None:
    return len(value) if isinstance(value, (str, bytes, bytearray)) else None


def check_deflate(sid: str, negotiated: bool | None) -> None:
    """S6 is meaningless if compression silently wasn't negotiated."""
    if negotiated is False:
        raise EchoError(f"{sid}: permessage-deflate was not negotiated")


def result(sc: Scenario, elapsed: float, payload_bytes: int = 0, **extra: Any) -> dict[str, Any]:
    """Turn the timed section into the scenario's headline number."""
    if sc.kind in ("small", "pipelined"):
        value = sc.count / elapsed
    elif sc.kind in ("large", "compressed"):
        value = 2 * payload_bytes / elapsed / 1e6  # out + back, MB = 10**6 bytes
    elif sc.kind == "connect":
        value = elapsed / sc.count * 1000.0
    else:
        value = elapsed
    return {"value": value, "elapsed": elapsed, **extra}


def many_result(sc: Scenario, meter: Meter, sampler: PeakSampler) -> dict[str, Any]:
    """S5 headline (wall time) plus the footprint numbers that matter for many connections."""
    peak = sampler.peak_rss_kib
    return result(
        sc, meter.elapsed,
        peak_threads=sampler.peak_threads,
        peak_rss_kib=peak,
        rss_per_conn_kib=max(0, peak - sampler.base_rss_kib) / sc.conns,
    )


def percentile(ordered: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list (q in 0-100): a value that occurred."""
    rank = max(1, math.ceil(q / 100.0 * len(ordered)))
    return ordered[rank - 1]


def stall_result(sc: Scenario, meter: Meter, busy: list[float], idle: list[float],
                 big_messages: int) -> dict[str, Any]:
    """S9 headline: p99 of the small round trips (ms) while the big messages arrive; idle p99 beside it."""
    busy, idle = sorted(busy), sorted(idle)
    p99 = percentile(busy, 99) * 1000.0
    return {
        "value": p99, "elapsed": meter.elapsed, "messages": len(busy), "big_messages": big_messages,
        "p50_ms": percentile(busy, 50) * 1000.0, "idle_p99_ms": percentile(idle, 99) * 1000.0,
        "max_ms": busy[-1] * 1000.0,
    }


def burst_result(sc: Scenario, meter: Meter, latencies: list[float]) -> dict[str, Any]:
    """S7 headline: p99 of the per-message latency in ms, with p50 and max beside it.

    ``latencies`` holds one entry per received message: seconds from just before
    the trigger was sent to just after that message was returned to the caller.
    """
    ordered = sorted(latencies)
    p99 = percentile(ordered, 99) * 1000.0
    return {
        "value": p99, "elapsed": meter.elapsed, "messages": len(ordered),
        "p50_ms": percentile(ordered, 50) * 1000.0, "p99_ms": p99,
        "max_ms": ordered[-1] * 1000.0,
    }
