"""Scenario definitions: one table so full, scaled and quick runs differ only in counts."""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

MIB = 1 << 20


@dataclass(frozen=True)
class Scenario:
    """One measured workload; ``count`` and ``conns`` are the only knobs a run scales."""

    sid: str
    title: str
    kind: str  # small | pipelined | large | connect | many | compressed | burst | stall
    server: str  # which echo server: ws | ws-deflate (tcp-floor maps ws -> tcp)
    unit: str
    higher_is_better: bool
    count: int
    size: int = 0
    conns: int = 0
    warmup: int = 0  # in-process warm-up iterations before the timed section
    batch: int = 0  # S7: messages the server writes per trigger, in one write; S9: big messages received

    def to_json(self) -> dict[str, Any]:
        """Serialise for the worker's command line."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Scenario:
        """Inverse of :meth:`to_json`."""
        return cls(**data)


FULL: list[Scenario] = [
    Scenario("S1", "small round trips: 32 B text, sequential", "small", "ws",
             "round trips/s", True, count=20_000, size=32, warmup=500),
    Scenario("S2", "pipelined: 1 KiB binary, one thread sends, one receives", "pipelined", "ws",
             "msgs/s", True, count=20_000, size=1024, warmup=500),
    Scenario("S3", "large: 1 MiB binary echo", "large", "ws",
             "MB/s", True, count=200, size=MIB, warmup=3),
    Scenario("S4", "connect: open + handshake + close", "connect", "ws",
             "ms each", False, count=300, warmup=10),
    Scenario("S5-200", "many: 200 connections x 50 round trips, one caller each", "many", "ws",
             "s wall", False, count=50, size=32, conns=200),
    Scenario("S5-1000", "many: 1,000 connections x 50 round trips, one caller each", "many", "ws",
             "s wall", False, count=50, size=32, conns=1000),
    Scenario("S6", "compressed: ~1 MiB JSON text echo, permessage-deflate", "compressed",
             "ws-deflate", "MB/s", True, count=200, size=MIB, warmup=3),
    # Headline is p99 of the per-message latency (trigger sent -> message k received);
    # p50 is reported next to it. The server writes the 10 frames with one write.
    Scenario("S7", "burst: 10 x 64 B text in one server write, latency per message", "burst",
             "ws", "p99 ms", False, count=2_000, size=64, warmup=50, batch=10),
    # S5 with permessage-deflate and 1 KiB JSON: what compression state costs per connection.
    Scenario("S8", "many compressed: 1,000 connections x 20 round trips of 1 KiB JSON, deflate",
             "many", "ws-deflate", "s wall", False, count=20, size=1024, conns=1000),
    # Headline: p99 of the small round trips made while one connection echoes ``batch``
    # 16 MiB JSON messages; ``count`` round trips each with it idle give the p99 beside it.
    Scenario("S9", "stall: 50 connections x 1 KiB JSON round trips beside 16 MiB compressed receives",
             "stall", "ws-deflate", "p99 ms", False, count=100, size=16 * MIB, conns=50, warmup=1, batch=3),
]

# Smoke-test counts: enough to exercise every code path (fragment-free large frames,
# threads, many connections, deflate) in a few hundred milliseconds per process.
QUICK_COUNTS: dict[str, dict[str, int]] = {
    "S1": {"count": 200, "warmup": 10},
    "S2": {"count": 500, "warmup": 10},
    "S3": {"count": 4, "warmup": 1},
    "S4": {"count": 10, "warmup": 1},
    "S5-200": {"count": 5, "conns": 20},
    "S6": {"count": 4, "warmup": 1},
    "S7": {"count": 100, "warmup": 5},
    "S8": {"count": 3, "conns": 20},
    "S9": {"count": 10, "conns": 5, "warmup": 1, "size": MIB},
}


def scenarios(quick: bool, scale: float, only: list[str] | None) -> list[Scenario]:
    """Pick the scenario list for this run; ``scale`` shrinks or grows every count."""
    if quick:
        chosen = [_quick(s, QUICK_COUNTS[s.sid]) for s in FULL if s.sid in QUICK_COUNTS]
    else:
        # S5, S8 and S9 keep their connection counts (they are the point); only counts scale.
        chosen = [replace(s, count=max(1, round(s.count * scale))) for s in FULL]
    if only:
        wanted = {w.upper() for w in only}
        chosen = [s for s in chosen if s.sid.upper() in wanted or s.sid.split("-")[0] in wanted]
    return chosen


def _quick(sc: Scenario, counts: dict[str, int]) -> Scenario:
    return replace(sc, count=counts["count"], warmup=counts.get("warmup", sc.warmup),
                   conns=counts.get("conns", sc.conns), size=counts.get("size", sc.size))
