"""Run the Autobahn|Testsuite client catalogue against syncws.

    python -m tests.autobahn                 # every case, both APIs; rewrites docs/conformance.md
    python -m tests.autobahn --sample        # CI's sample (SAMPLE_CASES), both APIs; docs untouched
    python -m tests.autobahn --api sync      # one API only (docs untouched)

Steps: find Python 2.7 (the suite is Python 2 code); install the pinned suite with its
pip into .autobahn/suite-*/ (``pip install --target``; reused while the pins stay the
same); start its fuzzing server on 127.0.0.1 on a free port; for each API run the
suite's client protocol (``/getCaseCount``, then ``/runCase?case=N&agent=A`` echoing
every text and binary message until the connection ends, then ``/updateReports``);
stop the server; summarise .autobahn/reports/<run>/index.json. The exit status is 0
only if every asked-for case was reported for every agent and each is OK or
INFORMATIONAL with a closing behaviour that is not failed (summary.py); 1 otherwise;
2 when the suite could not be set up or run.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import hashlib
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import syncws
from syncws import WSMsgType
from tests.autobahn import summary

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".autobahn"
DOC = ROOT / "docs" / "conformance.md"

# autobahntestsuite pins its direct dependencies; these are the rest of a set that
# installs and runs under Python 2.7.18, so a reinstall gets exactly the same suite.
SUITE_PINS = (
    "autobahntestsuite==25.10.1",
    "autobahn[accelerate,twisted]==0.10.9",
    "Twisted==19.10.0",
    "txaio==2.1.0",
    "zope.interface==4.6.0",
    "incremental==16.10.1",
    "constantly==15.1.0",
    "Automat==22.10.0",
    "attrs==21.4.0",
    "hyperlink==21.0.0",
    "idna==2.10",
    "typing==3.10.0.0",
    "PyHamcrest==1.10.1",
    "six==1.16.0",
    "setuptools==44.0.0",
    "pyOpenSSL==19.1.0",
    "cryptography==3.3.2",
    "cffi==1.15.1",
    "pycparser==2.21",
    "enum34==1.1.10",
    "ipaddress==1.0.23",
    "service-identity==18.1.0",
    "pyasn1==0.5.1",
    "pyasn1-modules==0.3.0",
    "klein==17.10.0",
    "Werkzeug==1.0.1",
    "jinja2==2.11.3",
    "markupsafe==1.1.1",
    "unittest2==1.1.0",
    "argparse==1.4.0",
    "traceback2==1.4.0",
    "linecache2==1.0.0",
    "wsaccel==0.6.6",
    "ujson==2.0.3",
)

# CI's sample: a few minutes for both APIs (the full catalogue takes about 15 per API).
SAMPLE_CASES = ("1.*", "2.*", "3.*", "4.*", "5.*", "6.*", "7.*", "9.1.*", "10.*", "12.1.*", "13.1.*", "13.7.*")
# The asyncio API's sample leaves out the compression groups. Their work is the protocol
# core's, which the blocking API's run covers, and the asyncio API's compressed I/O is
# tested against websockets and aiohttp in the pytest suite; the fuzzing server (one
# Python 2 process) spends about 1.5 of CI's minutes per API on them.
SAMPLE_ASYNC_SKIPS = ("12.", "13.")

AGENTS = {"sync": "syncws-sync", "async": "syncws-async"}

# Defaults, except: no message size limit (9.x sends 16 MiB), no proxy from the
# environment. permessage-deflate stays offered (compress=15), so 12.x and 13.x run.
CLIENT_OPTIONS: Dict[str, Any] = {"max_msg_size": 0, "trust_env": False}
RECEIVE_TIMEOUT = 120.0  # one message; the slowest case (9.x) sends well within it
END_TYPES = (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED)


class SetupError(Exception):
    """The suite could not be installed or started: exit status 2."""


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# -- Python 2.7 and the suite ---------------------------------------------------------------------------------
def _version_key(path: Path) -> Tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", path.parent.parent.name))


def find_python2(explicit: Optional[str]) -> Optional[str]:
    """--python2, else $AUTOBAHN_PYTHON2, else the newest pyenv 2.7.x, else python2.7 on PATH."""
    if explicit:
        candidates = [explicit]
    elif os.environ.get("AUTOBAHN_PYTHON2"):
        candidates = [os.environ["AUTOBAHN_PYTHON2"]]
    else:
        root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
        found = sorted(root.glob("versions/2.7*/bin/python"), key=_version_key, reverse=True)
        candidates = [str(p) for p in found]
        for name in ("python2.7", "python2"):
            which = shutil.which(name)
            if which:
                candidates.append(which)
    for candidate in candidates:
        try:
            out = subprocess.run(
                [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                capture_output=True, text=True, timeout=30,
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            continue
        if out == "2.7":
            return candidate
    return None


def suite_dir(python2: str) -> Path:
    digest = hashlib.sha256("\n".join((python2, *SUITE_PINS)).encode()).hexdigest()[:12]
    return CACHE / f"suite-py27-{digest}"


def install_suite(python2: str) -> Path:
    """The suite's directory, installed with Python 2.7's pip on first use."""
    target = suite_dir(python2)
    if (target / "INSTALLED").exists():
        log(f"autobahn: using the suite installed in {target.relative_to(ROOT)}")
        return target
    CACHE.mkdir(parents=True, exist_ok=True)
    install_log = CACHE / "install.log"
    with open(install_log, "w", encoding="utf-8") as out:
        if subprocess.run([python2, "-m", "pip", "--version"], stdout=out, stderr=subprocess.STDOUT).returncode != 0:
            log(f"autobahn: {python2} has no pip; running ensurepip")
            if subprocess.run([python2, "-m", "ensurepip"], stdout=out, stderr=subprocess.STDOUT).returncode != 0:
                raise SetupError(f"ensurepip failed for {python2}; see {install_log}")
        partial = CACHE / f"{target.name}.partial-{os.getpid()}"
        shutil.rmtree(partial, ignore_errors=True)
        log(f"autobahn: installing {SUITE_PINS[0]} with {python2} into {target.relative_to(ROOT)} (about 30 s)")
        cmd = [
            python2, "-m", "pip", "install", "--disable-pip-version-check", "--no-warn-script-location",
            "--target", str(partial), *SUITE_PINS,
        ]
        out.write("$ " + " ".join(cmd) + "\n")
        out.flush()
        if subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL).returncode != 0:
            shutil.rmtree(partial, ignore_errors=True)
            tail = install_log.read_text(encoding="utf-8", errors="replace").splitlines()[-20:]
            raise SetupError(
                "pip could not install the suite:\n  " + "\n  ".join(tail) + f"\n(full log: {install_log})"
            )
    (partial / "INSTALLED").write_text("\n".join(SUITE_PINS) + "\n", encoding="utf-8")
    shutil.rmtree(target, ignore_errors=True)
    os.replace(partial, target)
    return target


# Run under Python 2.7 with argv: suite dir, spec file. The suite's modules as its own
# fuzzing server loads them: what cases the spec selects, their names, the versions.
PROBE = r"""
import json, site, sys
site.addsitedir(sys.argv[1])
import autobahn, autobahntestsuite, twisted
from autobahntestsuite.case import Cases, CaseCategories, CaseSubCategories, CaseSetname, CaseBasename
from autobahntestsuite.caseset import CaseSet
spec = json.load(open(sys.argv[2]))
cases = CaseSet(CaseSetname, CaseBasename, Cases, CaseCategories, CaseSubCategories).parseSpecCases(spec)
json.dump({"cases": cases, "categories": CaseCategories, "subcategories": CaseSubCategories,
           "versions": {"autobahntestsuite": autobahntestsuite.__version__, "autobahn": autobahn.version,
                        "Twisted": twisted.__version__, "Python 2": "%d.%d.%d" % sys.version_info[:3]}},
          sys.stdout)
"""

# The fuzzing server, listening on 127.0.0.1 only (the suite itself binds every
# interface), without its web UI (-u 0). argv: suite dir, spec file.
SERVER = r"""
import site, sys
site.addsitedir(sys.argv[1])
from autobahntestsuite import fuzzing
_listen = fuzzing.listenWS
def listen_on_loopback(factory, contextFactory=None):
    return _listen(factory, contextFactory, interface="127.0.0.1")
fuzzing.listenWS = listen_on_loopback
from autobahntestsuite.wstest import run
sys.argv = ["wstest", "-m", "fuzzingserver", "-s", sys.argv[2], "-u", "0"]
run()
"""


def probe(python2: str, suite: Path, spec_path: Path) -> Dict[str, Any]:
    proc = subprocess.run(
        [python2, "-c", PROBE, str(suite), str(spec_path)], capture_output=True, text=True, timeout=120
    )
    if proc.returncode != 0:
        raise SetupError(f"the installed suite does not load (delete {suite} to reinstall):\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class FuzzingServer:
    """The suite's fuzzing server as a child process, from start() until stop()."""

    def __init__(self, python2: str, suite: Path, cases: Sequence[str], outdir: Path, workdir: Path) -> None:
        self.python2, self.suite, self.cases, self.outdir, self.workdir = python2, suite, list(cases), outdir, workdir
        self.proc: Optional[subprocess.Popen[bytes]] = None
        self.port = 0
        self.log_path = outdir.parent / f"{outdir.name}-server.log"

    def spec(self, port: int) -> Dict[str, Any]:
        return {
            "url": f"ws://127.0.0.1:{port}",
            "outdir": str(self.outdir),
            "cases": self.cases,
            "exclude-cases": [],
            "exclude-agent-cases": {},
        }

    def start(self, attempts: int = 3) -> str:
        for _ in range(attempts):
            self.port = free_port()
            spec_path = self.workdir / "fuzzingserver.json"
            spec_path.write_text(json.dumps(self.spec(self.port), indent=2), encoding="utf-8")
            with open(self.log_path, "wb") as out:
                self.proc = subprocess.Popen(
                    [self.python2, "-u", "-c", SERVER, str(self.suite), str(spec_path)],
                    stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=self.workdir,
                )
            if self._wait_listening(timeout=60.0):
                log(f"autobahn: fuzzing server (pid {self.proc.pid}) listening on 127.0.0.1:{self.port}")
                return f"ws://127.0.0.1:{self.port}"
            self.stop()
            tail = self.log_path.read_text(encoding="utf-8", errors="replace")[-2000:]
            if "Address already in use" not in tail and "CannotListenError" not in tail:
                raise SetupError(f"the fuzzing server did not start:\n{tail}")
        raise SetupError(f"the fuzzing server found no free port in {attempts} attempts")

    def _wait_listening(self, timeout: float) -> bool:
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1.0):
                    return True
            except OSError:
                time.sleep(0.05)  # sleep-ok: polling interval, not a wait for readiness
        return False

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


# -- the suite's client protocol, through each API ---------------------------------------------------------------
class Progress:
    def __init__(self, api: str, cases: Sequence[str]) -> None:
        self.api, self.cases, self.started, self.group = api, cases, time.monotonic(), ""

    def case(self, n: int) -> None:
        group = self.cases[n - 1].split(".")[0]
        if group != self.group:
            self.group = group
            took = time.monotonic() - self.started
            log(f"autobahn: [{self.api}] {group}.* from case {n}/{len(self.cases)} ({took:.0f} s)")


def echo_sync(ws: syncws.SyncWebSocket) -> List[syncws.WSMessage]:
    """Echo every text and binary message until the connection ends; return those seen."""
    seen = []
    while True:
        msg = ws.receive(timeout=RECEIVE_TIMEOUT)
        seen.append(msg)
        try:
            if msg.type is WSMsgType.TEXT:
                ws.send_str(msg.data)
            elif msg.type is WSMsgType.BINARY:
                ws.send_bytes(msg.data)
        except syncws.ConnectionClosed:
            pass  # the connection is closing; its end comes next
        if msg.type in END_TYPES:
            return seen


async def echo_async(ws: syncws.ClientWebSocketResponse) -> List[syncws.WSMessage]:
    seen = []
    while True:
        msg = await ws.receive(timeout=RECEIVE_TIMEOUT)
        seen.append(msg)
        try:
            if msg.type is WSMsgType.TEXT:
                await ws.send_str(msg.data)
            elif msg.type is WSMsgType.BINARY:
                await ws.send_bytes(msg.data)
        except syncws.ConnectionClosed:
            pass
        if msg.type in END_TYPES:
            return seen


def case_count(seen: Sequence[syncws.WSMessage]) -> int:
    texts = [m.data for m in seen if m.type is WSMsgType.TEXT]
    if len(texts) != 1:
        raise SetupError(f"/getCaseCount answered {seen!r}")
    return int(json.loads(texts[0]))


def check_count(count: int, cases: Sequence[str]) -> None:
    if count != len(cases):
        raise SetupError(f"the server will run {count} cases, the spec selects {len(cases)}")


def check_server(alive: Callable[[], bool]) -> None:
    if not alive():
        raise SetupError("the fuzzing server exited in the middle of the run")


def run_sync(
    base: str, agent: str, cases: Sequence[str], selected: Sequence[str], alive: Callable[[], bool]
) -> List[str]:
    """The ``selected`` cases of the server's ``cases`` through syncws.connect; returns the
    client-side errors, one per case that had one."""
    errors = []
    chosen = set(selected)
    with syncws.connect(f"{base}/getCaseCount", **CLIENT_OPTIONS) as ws:
        check_count(case_count(echo_sync(ws)), cases)
    progress = Progress("sync", cases)
    for n, cid in enumerate(cases, 1):
        if cid not in chosen:
            continue
        progress.case(n)
        try:
            with syncws.connect(f"{base}/runCase?case={n}&agent={agent}", **CLIENT_OPTIONS) as ws:
                echo_sync(ws)
        except Exception as exc:  # the server's report judges the case; this is kept for the summary
            check_server(alive)
            errors.append(f"{cid}: {type(exc).__name__}: {exc}")
    with syncws.connect(f"{base}/updateReports?agent={agent}", **CLIENT_OPTIONS) as ws:
        echo_sync(ws)
    return errors


async def run_async(
    base: str, agent: str, cases: Sequence[str], selected: Sequence[str], alive: Callable[[], bool]
) -> List[str]:
    """``run_sync`` through syncws.ws_connect, in one event loop."""
    errors = []
    chosen = set(selected)
    async with syncws.ws_connect(f"{base}/getCaseCount", **CLIENT_OPTIONS) as ws:
        check_count(case_count(await echo_async(ws)), cases)
    progress = Progress("async", cases)
    for n, cid in enumerate(cases, 1):
        if cid not in chosen:
            continue
        progress.case(n)
        try:
            async with syncws.ws_connect(f"{base}/runCase?case={n}&agent={agent}", **CLIENT_OPTIONS) as ws:
                await echo_async(ws)
        except Exception as exc:
            check_server(alive)
            errors.append(f"{cid}: {type(exc).__name__}: {exc}")
    async with syncws.ws_connect(f"{base}/updateReports?agent={agent}", **CLIENT_OPTIONS) as ws:
        await echo_async(ws)
    return errors


RUNNERS: Dict[str, Callable[[str, str, Sequence[str], Sequence[str], Callable[[], bool]], List[str]]] = {
    "sync": run_sync,
    "async": lambda base, agent, cases, selected, alive: asyncio.run(run_async(base, agent, cases, selected, alive)),
}


# -- versions, the report, the docs ---------------------------------------------------------------------------
def syncws_version() -> str:
    version = syncws.__version__
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=30
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", "syncws"],
            cwd=ROOT, capture_output=True, text=True, timeout=30,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return version
    if not commit:
        return version
    return f"{version} (commit {commit}{', with local changes to syncws/' if dirty else ''})"


def versions(suite_versions: Dict[str, str]) -> Dict[str, str]:
    return {
        "syncws": syncws_version(),
        platform.python_implementation(): platform.python_version(),
        "autobahntestsuite": suite_versions["autobahntestsuite"],
        "autobahn": suite_versions["autobahn"],
        "Twisted": suite_versions["Twisted"],
        "Python": f"{suite_versions['Python 2']} (the suite's)",
    }


def cases_for(api: str, cases: List[str], *, sample: bool) -> List[str]:
    """The cases ``api`` runs: all of them, but for the asyncio API's CI sample."""
    if sample and api == "async":
        return [c for c in cases if not c.startswith(SAMPLE_ASYNC_SKIPS)]
    return cases


def write_docs(markdown: str) -> None:
    DOC.write_text(summary.replace_generated(DOC.read_text(encoding="utf-8"), markdown), encoding="utf-8")
    log(f"autobahn: rewrote the report in {DOC.relative_to(ROOT)}")


def parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.autobahn", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sample", action="store_true", help="run CI's sample: " + " ".join(SAMPLE_CASES))
    parser.add_argument("--api", choices=("sync", "async", "both"), default="both")
    parser.add_argument(
        "--cases", nargs="+", metavar="PATTERN", help="case patterns (e.g. 9.1.* 12.1.1); docs untouched"
    )
    parser.add_argument("--python2", help="Python 2.7 to run the suite with (default: newest pyenv 2.7.x)")
    parser.add_argument("--no-docs", action="store_true", help="never rewrite docs/conformance.md")
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    if args.cases:
        patterns, what = list(args.cases), "cases " + " ".join(args.cases)
    elif args.sample:
        patterns, what = list(SAMPLE_CASES), "CI sample (" + " ".join(SAMPLE_CASES) + ")"
    else:
        patterns, what = ["*"], "full client catalogue"
    apis = ["sync", "async"] if args.api == "both" else [args.api]
    full_run = patterns == ["*"] and apis == ["sync", "async"]

    python2 = find_python2(args.python2)
    if python2 is None:
        log(
            "autobahn: Python 2.7 is missing (looked for --python2, $AUTOBAHN_PYTHON2, "
            "$PYENV_ROOT/versions/2.7*/bin/python and python2.7 on PATH); the suite is Python 2 code, "
            "so nothing was run. Install it (e.g. `pyenv install 2.7.18`) or pass --python2."
        )
        return 2

    run_name = "full" if full_run else "sample" if args.sample and not args.cases else "partial"
    outdir = CACHE / "reports" / run_name
    try:
        suite = install_suite(python2)
        shutil.rmtree(outdir, ignore_errors=True)  # nothing from an earlier run can count
        outdir.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="autobahn-") as tmp:
            workdir = Path(tmp)
            server = FuzzingServer(python2, suite, patterns, outdir, workdir)
            spec_path = workdir / "probe.json"
            spec_path.write_text(json.dumps(server.spec(0)), encoding="utf-8")
            info = probe(python2, suite, spec_path)
            vers = versions(info["versions"])  # before the run: what ran is the tree as it is now
            cases: List[str] = info["cases"]
            if not cases:
                raise SetupError(f"no case matches {patterns}")
            log(f"autobahn: {what}: {len(cases)} cases, APIs: {', '.join(summary.API_NAMES[a] for a in apis)}")
            seconds: Dict[str, float] = {}
            errors: Dict[str, List[str]] = {}
            api_cases = {api: cases_for(api, cases, sample=run_name == "sample") for api in apis}
            base = server.start()
            try:
                for api in apis:
                    started = time.monotonic()
                    errors[api] = RUNNERS[api](base, AGENTS[api], cases, api_cases[api], server.alive)
                    seconds[api] = time.monotonic() - started
                    log(f"autobahn: [{api}] {len(api_cases[api])} cases in {seconds[api]:.0f} s")
            finally:
                server.stop()
    except SetupError as exc:
        log(f"autobahn: {exc}")
        return 2

    index_path = outdir / "index.json"
    index = summary.read_index(index_path) if index_path.exists() else {}

    def details(reportfile: str) -> Dict[str, Any]:
        return summary.read_index(outdir / reportfile)

    summaries = []
    for api in apis:
        s = summary.summarise(index, api, AGENTS[api], api_cases[api], details)
        s.seconds = seconds[api]
        s.client_errors = errors[api]
        summaries.append(s)
    print(summary.format_text(summaries, vers, f"{what}, {len(cases)} cases"), end="")
    print(f"HTML report: {outdir.relative_to(ROOT) / 'index.html'}")

    complete = all(not s.missing and not s.unexpected for s in summaries)
    if full_run and complete and not args.no_docs:
        date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
        write_docs(summary.render_markdown(summaries, vers, date, info["categories"], info["subcategories"]))
    elif full_run and not args.no_docs:
        log("autobahn: docs/conformance.md left as it was: the report is incomplete")
    return 1 if any(s.problems() for s in summaries) else 0
