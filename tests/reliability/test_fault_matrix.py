"""The fault matrix (issue #16): a peer resets or falls silent at each phase of a connection,
through both APIs, over ws:// and wss://.

Each case must end in the exception docs/errors.md's matrix names for it, with a message
that names the URL (or the proxy) and the phase, within its small timeout (pytest-timeout
is the hang guard; nothing asserts on durations), leaving no socket, thread or task behind
(``no_leaks``, and ResourceWarnings are errors). The peers are in faults.py.
"""

from __future__ import annotations

import re
import ssl
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Tuple

import pytest

import syncws
from tests.apis import Client, Conn
from tests.reliability.faults import FAULTS, OPENING, PHASES, Fault, PortTrap, proxy_script, script_for
from tests.servers import ServerLoop

pytestmark = [
    pytest.mark.timeout(30),
    pytest.mark.usefixtures("no_leaks"),
    pytest.mark.filterwarnings("error::ResourceWarning"),
    pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning"),
]

SMALL = 0.3  # the open, receive and close timeouts of a silent case
PATIENT = 10.0  # a reset case must not need a timeout: hitting one is a failure
DOCS = Path(__file__).resolve().parents[2] / "docs" / "errors.md"

# Words the message must contain, per phase and fault: what failed, in the user's terms.
PHASE_WORDS: Dict[Tuple[str, str], str] = {
    ("tcp", "reset"): "cannot connect",
    ("tcp", "silence"): "connecting",
    ("proxy", "reset"): "CONNECT",
    ("proxy", "silence"): "CONNECT",
    ("tls", "reset"): "TLS handshake",
    ("tls", "silence"): "TLS handshake",
    ("request", "reset"): "opening handshake",
    ("request", "silence"): "waiting for the handshake response",
    ("response", "reset"): "opening handshake",
    ("response", "silence"): "in the middle of the handshake response",
    ("first_frame", "reset"): "without a close frame",
    ("first_frame", "silence"): "no message",
    ("mid_message", "reset"): "in the middle of a message",
    ("mid_message", "silence"): "no message",
    ("closing", "reset"): "during the closing handshake",
    ("closing", "silence"): "no close frame",
}


def documented_matrix() -> Dict[Tuple[str, str], List[str]]:
    """docs/errors.md's matrix: (phase, fault) -> the exception names it promises."""
    lines = DOCS.read_text(encoding="utf-8").splitlines()
    start = lines.index("## Fault matrix")
    rows: Dict[Tuple[str, str], List[str]] = {}
    for line in lines[start:]:
        match = re.match(r"\| `(\w+)` \|[^|]*\| (.*) \| (.*) \|$", line)
        if match:
            phase, reset, silence = match.groups()
            rows[(phase, "reset")] = re.findall(r"`(\w+)`", reset)
            rows[(phase, "silence")] = re.findall(r"`(\w+)`", silence)
    return rows


def cases() -> Iterator[Any]:
    for phase in PHASES:
        for fault in FAULTS:
            for scheme in ("ws", "wss"):
                if phase == "tls" and scheme == "ws":
                    continue  # no TLS to fail
                for api in ("sync", "async"):
                    yield pytest.param(Fault(phase, fault), scheme, api, id=f"{phase}-{fault}-{scheme}-{api}")


def test_the_documented_matrix_covers_every_case() -> None:
    """Every case has a row, and names exceptions that the errors table of index.md explains."""
    documented = documented_matrix()
    assert sorted(documented) == sorted((p, f) for p in PHASES for f in FAULTS)
    index = (DOCS.parent / "index.md").read_text(encoding="utf-8")
    explained = set(re.findall(r"`(\w+)`", index[index.index("## Errors") : index.index("## Close codes")]))
    for names in documented.values():
        assert names and all(isinstance(getattr(syncws, n, None), type) for n in names), names
        assert all(issubclass(getattr(syncws, n), syncws.WebSocketError) for n in names)
        assert set(names) <= explained, names


@pytest.fixture
def api(request: pytest.FixtureRequest, no_leaks: None, server_loop: ServerLoop) -> Iterator[Client]:
    """After ``no_leaks``, so that the async client's own loop is closed before the count."""
    client = Client(request.param, server_loop)
    yield client
    client.cleanup()


@pytest.fixture
def trap(no_leaks: None) -> Iterator[Callable[[str], PortTrap]]:
    traps: List[PortTrap] = []

    def make(fault: str) -> PortTrap:
        traps.append(PortTrap(fault))
        return traps[-1]

    yield make
    for t in traps:
        t.close()


@pytest.mark.parametrize(("fault", "scheme", "api"), list(cases()), indirect=["api"])
def test_fault(
    fault: Fault,
    scheme: str,
    api: Client,
    raw_server: Any,
    tls_raw_server: Any,
    trap: Callable[[str], PortTrap],
    client_ssl: ssl.SSLContext,
) -> None:
    seen: Dict[str, Any] = {}
    silent = fault.fault == "silence"
    options: Dict[str, Any] = {
        "compress": 0,
        "open_timeout": SMALL if silent else PATIENT,
        "close_timeout": SMALL if silent else PATIENT,
    }
    if scheme == "wss":
        options["ssl"] = client_ssl
    peer = fault.phase in ("proxy", "tcp")
    if fault.phase == "tcp":
        url = f"{scheme}://127.0.0.1:{trap(fault.fault).port}/"
    elif fault.phase == "proxy":
        proxy = raw_server(proxy_script(fault.fault, seen))
        options["proxy"] = f"http://127.0.0.1:{proxy.port}"
        url = f"{scheme}://127.0.0.1:9/"  # never reached: the tunnel fails first
    elif fault.phase == "tls":
        url = raw_server(script_for(fault, seen)).url.replace("ws://", "wss://")
    else:
        script = script_for(fault, seen)
        url = (tls_raw_server(script, "127.0.0.1") if scheme == "wss" else raw_server(script)).url

    if fault.phase in OPENING:
        err = api.connect_error(url, **options)
    else:
        err = _after_open(api.connect(url, **options), fault)

    expected = documented_matrix()[(fault.phase, fault.fault)]
    assert type(err).__name__ in expected, f"{fault.id}: {err!r}, docs/errors.md says {expected}"
    text = str(err)
    names = [options["proxy"]] if fault.phase == "proxy" else [url, url.split("://")[1].split("/")[0]]
    assert any(name in text for name in names), f"{fault.id}: {text!r} names none of {names}"
    word = PHASE_WORDS[(fault.phase, fault.fault)]
    assert word in text, f"{fault.id}: {text!r} does not say {word!r}"
    if fault.phase == "tls":
        assert seen.get("client_hello"), "the TLS handshake never reached the peer"
    elif not peer:
        assert seen, "the peer never got to its phase"


def _after_open(conn: Conn, fault: Fault) -> BaseException:
    """The error an open connection reports when its peer breaks at ``fault.phase``."""
    if fault.phase == "closing":
        assert conn.close() is True  # close() never raises: exception() says how it ended
        err = conn.exception()
        assert err is not None and conn.close_code == 1006
        return err
    conn.send_str("go")  # the peer's cue: we are open
    if fault.fault == "silence":
        with pytest.raises(syncws.ReceiveTimeout) as timeout:
            conn.receive(timeout=SMALL)
        assert not conn.closed  # documented: the connection stays usable
        conn.close()
        return timeout.value
    msg = conn.receive()
    expected = syncws.WSMsgType.CLOSED if conn.api == "async" else syncws.WSMsgType.ERROR
    assert msg.type is expected, msg
    err = conn.exception()
    assert err is not None and conn.close_code == 1006
    if conn.api == "sync":
        assert msg.data is err
        # what a blocking receive_bytes() raises at that end says as much
        with pytest.raises(syncws.ConnectionClosedError) as ended:
            conn.ws.receive_bytes(timeout=PATIENT)
        assert ended.value.__cause__ is err
        assert conn.url in str(ended.value) and PHASE_WORDS[(fault.phase, fault.fault)] in str(ended.value)
    return err
