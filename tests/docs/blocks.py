"""Finding the code blocks of a Markdown page, and what the docs test does with each.

Rules (also in docs/index.md, "How these pages are tested"):

- a ``python`` fence (or MyST's ``{code-block} python``) runs; the blocks of one page
  run in order in one namespace, where ``url`` is a local echo server;
- ``<!-- docs-test: skip REASON -->`` on the line before a fence keeps it from running;
- ``<!-- docs-test: console -->`` before a ``console`` fence runs its ``$`` commands and
  compares what they print with the lines that follow them;
- ``<!-- docs-test: output -->`` before a ``text`` fence right after a python block
  compares that block's standard output with it;
- other languages (``sh``, ``text``, ``ini``, ...) are not run; a fence without a
  language is an error, so nothing is left out by accident.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Dict, List, Optional

RUN = {"python", "py"}
NOT_RUN = {"sh", "bash", "shell", "console", "text", "output", "ini", "cfg", "toml", "json", "pycon", "diff"}
MARKER = re.compile(r"^<!--\s*docs-test:\s*(\w+)\s*(.*?)\s*-->\s*$")
FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<info>.*)$")


@dataclasses.dataclass
class Block:
    path: Path
    line: int  # 1-based line of the opening fence
    lang: str  # "python", "console", "text", "{include}", ...
    code: str
    marker: Optional[str] = None  # skip / console / output
    reason: str = ""

    @property
    def runs(self) -> bool:
        if self.marker == "skip":
            return False
        return self.lang in RUN or (self.lang == "console" and self.marker == "console")

    @property
    def where(self) -> str:
        return f"{self.path.name}:{self.line}"


def language(info: str) -> str:
    """``python`` for ``python``, ``{code-block} python`` and ``{code} python``; directives as ``{name}``."""
    info = info.strip()
    if info.startswith("{"):
        directive, _, arg = info.partition("}")
        name = directive + "}"
        if name in ("{code-block}", "{code}", "{sourcecode}"):
            return arg.strip().split()[0] if arg.strip() else ""
        return name
    return info.split()[0] if info else ""


def extract(path: Path) -> List[Block]:
    """Every fenced block of the page, outermost fences only for directives."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: List[Block] = []
    i = 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        fence = match["fence"]
        lang = language(match["info"])
        start = i
        body: List[str] = []
        i += 1
        while i < len(lines):
            closing = FENCE.match(lines[i])
            if closing and closing["fence"][0] == fence[0] and len(closing["fence"]) >= len(fence) \
                    and not closing["info"].strip():
                break
            body.append(lines[i])
            i += 1
        i += 1
        # MyST directive options (":caption: ...") at the top of a code-block are not code
        if match["info"].strip().startswith("{"):
            while body and body[0].startswith(":"):
                body.pop(0)
        marker, reason = _marker(lines, start)
        blocks.append(Block(path, start + 1, lang, "\n".join(body) + "\n", marker, reason))
    return blocks


def _marker(lines: List[str], fence_index: int) -> "tuple[Optional[str], str]":
    j = fence_index - 1
    while j >= 0 and not lines[j].strip():
        j -= 1
    if j >= 0:
        found = MARKER.match(lines[j].strip())
        if found:
            return found[1], found[2]
    return None, ""


@dataclasses.dataclass
class Servers:
    """Local stand-ins for the placeholder hosts of the docs."""

    ws: str  # ws://127.0.0.1:PORT
    wss: str  # wss://localhost:PORT (its CA is in SSL_CERT_FILE)
    proxy: str  # 127.0.0.1:PORT, an HTTP CONNECT proxy


# ws://example.com/x, wss://echo.example.org:8443/x, ... -> the local servers
_WS_PLACEHOLDER = re.compile(r"\b(?P<scheme>wss?)://(?:[\w-]+\.)*example\.(?:com|org|net)(?::\d+)?")
# http://proxy.example.com:3128, http://user:pw@proxy.example.com -> the local proxy
_PROXY_PLACEHOLDER = re.compile(r"\b(?P<pre>http://(?:[^@\s/\"']+@)?)proxy\.example\.(?:com|org|net)(?::\d+)?")


def substitute(code: str, servers: Servers) -> str:
    code = _PROXY_PLACEHOLDER.sub(lambda m: m["pre"] + servers.proxy, code)
    return _WS_PLACEHOLDER.sub(lambda m: servers.wss if m["scheme"] == "wss" else servers.ws, code)


def console_commands(block: Block) -> List[Dict[str, str]]:
    """``$ command`` lines and the output expected after each."""
    steps: List[Dict[str, str]] = []
    for line in block.code.splitlines():
        if line.startswith("$ "):
            steps.append({"command": line[2:], "expected": ""})
        elif steps:
            steps[-1]["expected"] += line + "\n"
        elif line.strip():
            raise ValueError(f"{block.where}: console output before any '$ ' command")
    return steps
