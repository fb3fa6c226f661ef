"""The compression settings table in docs/performance.md: level x speed x ratio x memory.

``python -m bench.deflate_table`` measures every row in this process and rewrites
``bench/DEFLATE.md``. Speed: syncws's own Deflater and Inflater on S6's ~1 MiB JSON
text (best of 5; one thread). Memory: the resident set added per connection by one
compressor and one decompressor that have each handled a 1 KiB JSON message (the
state a connection keeps between messages), averaged over 300 pairs.
"""
from __future__ import annotations

import argparse
import gc
import os
import time
from pathlib import Path

from bench import payloads
from syncws.protocol import zlib_backend
from syncws.protocol.deflate import CompressSettings, DeflateParams, Deflater, Inflater

OUT = Path(__file__).with_name("DEFLATE.md")
# (level, memLevel, window bits); the first is syncws's default, the last two zlib's own.
ROWS = [(1, 5, 12), (2, 5, 12), (3, 5, 12), (6, 5, 12), (9, 5, 12), (1, 8, 15), (6, 8, 15)]
PAIRS = 300


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _pair(settings: CompressSettings) -> tuple[Deflater, Inflater]:
    bits = settings.window_bits
    params = DeflateParams(client_max_window_bits=bits, server_max_window_bits=bits)
    return Deflater(params, settings), Inflater(params)


def measure(level: int, mem: int, bits: int, text: bytes, small: bytes) -> dict[str, float]:
    settings = CompressSettings(level, mem, bits)
    best_c = best_d = float("inf")
    packed = b""
    for _ in range(5):
        deflater, inflater = _pair(settings)
        t0 = time.perf_counter()
        packed = deflater.compress(text) or b""
        t1 = time.perf_counter()
        back = b"".join(inflater.decompress(packed, None)) + inflater.finish(None)
        t2 = time.perf_counter()
        assert back == text
        best_c, best_d = min(best_c, t1 - t0), min(best_d, t2 - t1)
    gc.collect()
    before = _rss()
    kept = []
    for _ in range(PAIRS):
        deflater, inflater = _pair(settings)
        inflater.decompress(deflater.compress(small) or b"", None)
        kept.append((deflater, inflater))
    per_pair = (_rss() - before) / PAIRS
    del kept
    return {"compress": len(text) / best_c / 1e6, "inflate": len(text) / best_d / 1e6,
            "ratio": len(text) / len(packed), "kib": per_pair / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args()
    text = payloads.json_texts(2**20, 1)[0].encode()
    small = payloads.json_texts(1024, 1)[0].encode()
    lines = [
        "| backend | level | memLevel | window bits | compress MB/s | inflate MB/s | ratio | KiB per connection |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for backend in zlib_backend.available_zlib_backends():
        zlib_backend.use_zlib_backend(backend)
        for level, mem, bits in ROWS:
            r = measure(level, mem, bits, text, small)
            note = " (default)" if (level, mem, bits) == (1, 5, 12) else ""
            lines.append(f"| {backend} | {level}{note} | {mem} | {bits} | {r['compress']:.0f} | {r['inflate']:.0f} "
                         f"| {r['ratio']:.2f} | {r['kib']:.0f} |")
    cpu = os.cpu_count()
    head = (f"Measured by `python -m bench.deflate_table` ({time.strftime('%Y-%m-%d')}, {cpu} CPUs shared with "
            "other work, so speeds are noisy to +-20 %; compare rows, not runs). MB/s are 10^6 bytes of "
            "JSON per second, one thread; ratio is JSON bytes per compressed byte; KiB per connection is "
            "the resident memory one compressor plus one decompressor add after a 1 KiB message. On the "
            "zlib-ng rows, the 1 MiB text is compressed by zlib-ng and the 1 KiB message by the standard "
            "library's zlib: a connection keeps a stdlib compressor and makes a zlib-ng one for each message "
            "of 64 KiB or more (syncws/protocol/deflate.py, Deflater).\n\n")
    OUT.write_text(head + "\n".join(lines) + "\n", encoding="utf-8")
    print(OUT.read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
