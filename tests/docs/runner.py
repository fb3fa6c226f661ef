"""Runs one page's python blocks in order, in one namespace: ``python -m tests.docs.runner``
with a JSON list of blocks on stdin. Says which block failed, by page and line.

Top-level ``await`` is allowed, as in Jupyter and ``python -m asyncio``. Each block
gets ``BLOCK_TIMEOUT`` seconds (SIGALRM), so an example that never ends fails instead
of hanging the suite.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import inspect
import io
import json
import signal
import sys
import traceback
from types import FrameType
from typing import Any, Dict, Optional

BLOCK_TIMEOUT = 10


class BlockTimeout(Exception):
    pass


def _alarm(signum: int, frame: Optional[FrameType]) -> None:
    raise BlockTimeout(f"the block did not finish within {BLOCK_TIMEOUT} s")


def run_block(source: str, where: str, namespace: Dict[str, Any]) -> None:
    code = compile(source, where, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    result = eval(code, namespace)  # the docs' own examples
    if code.co_flags & inspect.CO_COROUTINE:
        asyncio.run(result)


def main() -> int:
    spec = json.load(sys.stdin)
    namespace: Dict[str, Any] = {"__name__": "__main__", "url": spec["url"]}
    signal.signal(signal.SIGALRM, _alarm)
    ran = 0
    for block in spec["blocks"]:
        where, expected = block["where"], block.get("output")
        captured = io.StringIO()
        try:
            signal.alarm(BLOCK_TIMEOUT)
            with contextlib.redirect_stdout(captured) if expected is not None else contextlib.nullcontext():
                run_block(block["code"], where, namespace)
        except BaseException:  # SystemExit too: an example must not end the page
            signal.alarm(0)
            print(f"[docs-test] FAILED {where}", file=sys.stderr)
            traceback.print_exc()
            return 1
        finally:
            signal.alarm(0)
        if expected is not None and captured.getvalue().rstrip("\n") != expected.rstrip("\n"):
            print(f"[docs-test] FAILED {where}: output differs", file=sys.stderr)
            print(f"--- documented\n{expected}--- printed\n{captured.getvalue()}", file=sys.stderr)
            return 1
        ran += 1
    print(f"[docs-test] ran {ran}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
