"""Every code block of README.md and docs/ runs against local servers, so the docs never lie.

Placeholder hosts (``wss://example.com/...``, ``http://proxy.example.com:3128``) become
local servers (blocks.substitute); what cannot run is marked in the Markdown
(blocks.py says how). The run ends with a line counting the blocks that ran.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Optional

import pytest

from tests.docs.blocks import NOT_RUN, RUN, Block, Servers, console_commands, extract, substitute
from tests.docs.conftest import STATS

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted(p for p in (ROOT / "docs").rglob("*.md") if "_build" not in p.parts)]

# Pages whose blocks are known not to run yet; remove the entry once they do.
PENDING: Dict[str, str] = {}


def _env(workdir: Path) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k.lower() not in ("http_proxy", "https_proxy", "all_proxy")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["SSL_CERT_FILE"] = str(workdir / "ca.pem")  # the wss:// stand-in's CA, for every client library
    env["WEBSOCKET_CLIENT_CA_BUNDLE"] = str(workdir / "ca.pem")
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def _python_spec(blocks: List[Block], servers: Servers) -> List[Dict[str, Optional[str]]]:
    spec = []
    for i, block in enumerate(blocks):
        if not (block.runs and block.lang in RUN):
            continue
        after = blocks[i + 1] if i + 1 < len(blocks) else None
        output = after.code if after is not None and after.marker == "output" else None
        spec.append({"where": block.where, "code": substitute(block.code, servers), "output": output})
    return spec


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_page_examples_run(
    page: Path, docs_servers: Servers, docs_workdir: Path, request: pytest.FixtureRequest
) -> None:
    if page.name in PENDING:
        request.applymarker(pytest.mark.xfail(strict=False, reason=PENDING[page.name]))
    blocks = extract(page)
    env = _env(docs_workdir)
    spec = _python_spec(blocks, docs_servers)
    if spec:
        proc = subprocess.run(
            [sys.executable, "-m", "tests.docs.runner"],
            input=json.dumps({"url": docs_servers.ws + "/echo", "blocks": spec}),
            capture_output=True, text=True, timeout=120, env=env, cwd=docs_workdir,
        )
        assert proc.returncode == 0, f"{page.name}: {proc.stderr}\n{proc.stdout[-2000:]}"
        assert f"[docs-test] ran {len(spec)}" in proc.stdout
    consoles = [b for b in blocks if b.runs and b.lang == "console"]
    for block in consoles:
        for step in console_commands(block):
            command = substitute(step["command"], docs_servers)
            printed = subprocess.run(  # stdout and stderr interleaved, as on a terminal
                ["bash", "-c", command], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                text=True, timeout=60, env=env, cwd=docs_workdir,
            ).stdout
            printed = printed.replace(docs_servers.ws, "ws://example.com")  # URLs the output names, as written
            assert printed == step["expected"], f"{block.where}: $ {step['command']}\n{printed}"
    STATS["pages"] += 1
    STATS["python"] += len(spec)
    STATS["console"] += len(consoles)
    STATS["skipped"] += sum(1 for b in blocks if b.marker == "skip")


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_every_block_says_what_it_is(page: Path) -> None:
    blocks = extract(page)
    for i, block in enumerate(blocks):
        known = block.lang in RUN | NOT_RUN or block.lang.startswith("{")
        assert known, f"{block.where}: fence language {block.lang!r}"
        if block.marker is None:
            continue
        assert block.marker in ("skip", "console", "output"), f"{block.where}: unknown marker {block.marker!r}"
        if block.marker == "skip":
            assert block.reason, f"{block.where}: say why the block does not run"
        if block.marker == "console":
            assert block.lang == "console", f"{block.where}: 'console' marks console blocks"
        if block.marker == "output":
            assert block.lang == "text" and i > 0 and blocks[i - 1].lang in RUN and blocks[i - 1].runs, (
                f"{block.where}: 'output' marks a text block right after a python block that runs"
            )


def test_substitution_covers_the_placeholders() -> None:
    servers = Servers(ws="ws://127.0.0.1:1", wss="wss://localhost:2", proxy="127.0.0.1:3")
    code = (
        'connect("wss://example.com/socket"); connect("ws://echo.example.org:8080/x?y=1")\n'
        'proxy="http://proxy.example.com:3128"; proxy="http://u:p@proxy.example.net"; "https://example.com/"'
    )
    assert substitute(code, servers) == (
        'connect("wss://localhost:2/socket"); connect("ws://127.0.0.1:1/x?y=1")\n'
        'proxy="http://127.0.0.1:3"; proxy="http://u:p@127.0.0.1:3"; "https://example.com/"'
    )


def test_extract_reads_fences_markers_and_directives(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "text\n\n<!-- docs-test: skip needs a real server -->\n```python\nx = 1\n```\n\n"
        "::::{container} side-by-side\n```{code-block} python\n:caption: before\ny = 2\n```\n::::\n\n"
        "````{eval-rst}\n```python\nnot a block\n```\n````\n\n<!-- docs-test: console -->\n"
        "```console\n$ echo hi\nhi\n```\n"
    )
    blocks = extract(page)
    assert [(b.line, b.lang, b.marker, b.runs) for b in blocks] == [
        (4, "python", "skip", False),
        (9, "python", None, True),
        (15, "{eval-rst}", None, False),
        (22, "console", "console", True),
    ]
    assert blocks[0].reason == "needs a real server"
    assert blocks[1].code == "y = 2\n"
    assert console_commands(blocks[3]) == [{"command": "echo hi", "expected": "hi\n"}]
