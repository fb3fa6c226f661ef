"""The command line as a script uses it: piped stdin and stdout, exit statuses, flags."""

from __future__ import annotations

import ast
import importlib.metadata
import json
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Callable, List

import pytest
import trustme

import syncws
from syncws.cli import build_parser, connect_options
from tests.cli.conftest import ROOT, PushServer, cli_env, run_cli
from tests.proxy import ConnectProxy
from tests.servers import RawPeer, RawServer, Script

RawServerFactory = Callable[[Script], RawServer]


def popen_cli(*args: str) -> subprocess.Popen:  # type: ignore[type-arg]
    return subprocess.Popen(
        [sys.executable, "-m", "syncws", *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(),
        cwd=ROOT,
    )


def test_echo_with_count(ws_url: str) -> None:
    proc = run_cli("-n", "3", ws_url + "/echo", input="hello\nwörld\n\n")
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "hello\nwörld\n\n", "")


def test_lines_are_sent_without_their_line_ends(push_server: PushServer) -> None:
    proc = run_cli("--close-on-eof", push_server.url, input="a\r\nb\n\nlast without newline")
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")
    push_server.wait_for(received=4)
    assert push_server.received == ["a", "b", "", "last without newline"]


def test_end_of_input_keeps_printing_until_the_server_closes(push_server: PushServer) -> None:
    proc = popen_cli(push_server.url)
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write("subscribe\n")
    proc.stdin.close()  # end of input: the client goes on listening
    push_server.wait_for(received=1)
    push_server.push("tick 1")
    assert proc.stdout.readline() == "tick 1\n"
    push_server.push("tick 2")
    push_server.close(1000)
    assert proc.wait(timeout=30) == 0
    assert (proc.stdout.read(), proc.stderr.read() if proc.stderr else None) == ("tick 2\n", "")


def test_binary_flag_sends_bytes_and_shows_hex(push_server: PushServer) -> None:
    proc = popen_cli("--binary", "-n", "1", push_server.url)
    assert proc.stdin is not None
    proc.stdin.write("héllo\n")
    proc.stdin.flush()
    push_server.wait_for(received=1)
    push_server.push(b"\x00\xff\x10")
    out, err = proc.communicate(timeout=30)
    assert (proc.returncode, out, err) == (0, "00ff10\n", "")
    assert push_server.received == ["héllo".encode()]


def test_without_binary_flag_binary_is_a_bytes_literal(push_server: PushServer) -> None:
    proc = popen_cli("-n", "1", push_server.url)
    push_server.push(b"ab\x00")
    out, err = proc.communicate(timeout=30)
    assert (proc.returncode, out, err) == (0, "b'ab\\x00'\n", "")


def test_json_flag_pretty_prints_json_and_leaves_the_rest(ws_url: str) -> None:
    proc = run_cli("--json", "-n", "2", ws_url, input='{"a": [1, "é"]}\nnot json\n')
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == '{\n  "a": [\n    1,\n    "é"\n  ]\n}\nnot json\n'


def test_headers_subprotocol_and_origin_reach_the_server(ws_url: str) -> None:
    proc = run_cli(
        "-n", "1", "-H", "X-One: 1", "--header", "X-Two:two", "-s", "nope", "-s", "chat",
        "--origin", "https://app.test", ws_url + "/info",
    )
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    headers = {k.lower(): v for k, v in info["headers"]}
    assert headers["x-one"] == "1" and headers["x-two"] == "two"
    assert headers["origin"] == "https://app.test"
    assert headers["sec-websocket-protocol"] == "nope, chat" and info["subprotocol"] == "chat"


def test_normal_close_by_the_server_exits_0(ws_url: str) -> None:
    proc = run_cli(ws_url + "/close/1000")
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")


def test_other_close_codes_exit_1_with_one_line(ws_url: str) -> None:
    proc = run_cli(ws_url + "/close/4000")
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr == "syncws: error: connection closed with code 4000 (server says bye)\n"


def test_refused_connection_exits_1_with_one_line() -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        proc = run_cli(f"ws://127.0.0.1:{port}/")
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.startswith("syncws: error: ClientConnectionError: ") and proc.stderr.count("\n") == 1


def test_handshake_refusal_exits_1(ws_url: str) -> None:
    proc = run_cli(ws_url + "/status/403")
    assert proc.returncode == 1
    assert proc.stderr.startswith("syncws: error: WSServerHandshakeError: ") and proc.stderr.count("\n") == 1


def test_lost_connection_exits_1(raw_server: RawServerFactory) -> None:
    async def script(peer: RawPeer) -> None:
        await peer.handshake()  # then drop TCP: no close frame

    url = raw_server(script).url
    proc = run_cli(url)
    assert proc.returncode == 1
    expected = f"connection to {url} lost without a close frame (1006)"
    assert proc.stderr == f"syncws: error: ConnectionClosedError: {expected}\n"


def test_ping_detects_a_dead_server(raw_server: RawServerFactory) -> None:
    async def script(peer: RawPeer) -> None:
        await peer.handshake()
        await peer.at_eof()  # reads the pings, never answers

    proc = run_cli("--ping", "0.2", raw_server(script).url)
    assert proc.returncode == 1
    assert proc.stderr.startswith("syncws: error: ServerTimeoutError: no pong")


def test_timeout_bounds_the_opening_handshake(raw_server: RawServerFactory) -> None:
    async def script(peer: RawPeer) -> None:
        await peer.read_request()
        await peer.at_eof()  # never answers

    proc = run_cli("--timeout", "0.3", raw_server(script).url)
    assert proc.returncode == 1
    assert proc.stderr.startswith("syncws: error: OpenTimeout")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-H", "no colon", "ws://h/"], "--header 'no colon' is not 'NAME: VALUE'"),
        (["--insecure", "--ca-file", "x.pem", "wss://h/"], "--insecure and --ca-file contradict"),
        (["--count", "0", "ws://h/"], "--count must be at least 1"),
        (["--ping", "-1", "ws://h/"], "must be > 0"),
        (["--timeout", "soon", "ws://h/"], "not a number"),
        (["--max-size", "-1", "ws://h/"], "must be >= 0"),
        (["ftp://127.0.0.1/"], "the scheme must be ws, wss, http or https"),
        (["127.0.0.1:8080"], "the scheme must be ws, wss, http or https"),
        (["ws:///path"], "no host"),
        (["ws://h:port/"], "bad URL"),
        ([], "the following arguments are required: url"),
    ],
)
def test_bad_arguments_exit_2(args: List[str], message: str) -> None:
    proc = run_cli(*args)
    assert proc.returncode == 2 and message in proc.stderr


def test_tls_needs_the_ca_or_insecure(wss_url: str, ca: trustme.CA, tmp_path: Path) -> None:
    pem = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(pem))
    refused = run_cli(wss_url)
    assert refused.returncode == 1 and refused.stderr.startswith("syncws: error: ClientSSLError")
    for flags in (["--ca-file", str(pem)], ["--insecure"]):
        proc = run_cli("-n", "1", *flags, wss_url, input="over tls\n")
        assert (proc.returncode, proc.stdout) == (0, "over tls\n"), proc.stderr


def test_tls_session_prints_nothing_on_stderr(wss_url: str, ca: trustme.CA, tmp_path: Path) -> None:
    pem = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(pem))
    proc = run_cli("-n", "1", "--ca-file", str(pem), wss_url, input="over tls\n")
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "over tls\n", "")


def test_proxy_flag_tunnels_through_the_proxy(ws_url: str, connect_proxy: ConnectProxy) -> None:
    proc = run_cli("-n", "1", "--proxy", connect_proxy.url, ws_url, input="via proxy\n")
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "via proxy\n", "")
    assert connect_proxy.tunnels == [ws_url.split("//")[1]]


def _threads_taking_sigint(pid: int) -> List[int]:
    """Thread ids in ``pid`` that do not block SIGINT (from /proc)."""
    taking = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        status = (task / "status").read_text()
        blocked = int(next(line for line in status.splitlines() if line.startswith("SigBlk:")).split()[1], 16)
        if not blocked & (1 << (signal.SIGINT - 1)):
            taking.append(int(task.name))
    return taking


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs /proc")
def test_only_the_main_thread_can_take_ctrl_c(ws_url: str) -> None:
    """The kernel may hand a Ctrl-C to any thread that does not block it; one in a helper
    thread would not wake the main thread, waiting in a queue. Only the main thread may take it."""
    proc = popen_cli(ws_url)
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write("ready?\n")
    proc.stdin.flush()
    assert proc.stdout.readline() == "ready?\n"  # receiver, stdin reader and loop threads all running
    assert len(list(Path(f"/proc/{proc.pid}/task").iterdir())) >= 4
    assert _threads_taking_sigint(proc.pid) == [proc.pid]
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert (proc.returncode, out, err) == (0, "", "")


def test_ctrl_c_closes_normally(ws_url: str) -> None:
    proc = popen_cli(ws_url)
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write("ready?\n")
    proc.stdin.flush()
    assert proc.stdout.readline() == "ready?\n"  # the client is past connecting and reading input
    proc.send_signal(signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGABRT)  # faulthandler (cli_env) prints every thread's stack
        _, err = proc.communicate(timeout=30)
        raise AssertionError(f"the client did not exit within 30 s of SIGINT; its threads:\n{err}") from None
    assert (proc.returncode, out, err) == (0, "", "")


def test_closed_stdout_ends_the_session_quietly_with_141(push_server: PushServer) -> None:
    """`syncws URL | head -1`: no message, no traceback, status 128 + SIGPIPE; a normal close."""
    proc = popen_cli(push_server.url)
    assert proc.stdout is not None and proc.stderr is not None
    push_server.push("first")
    assert proc.stdout.readline() == "first\n"
    proc.stdout.close()  # like `| head -n 1`
    push_server.push("second")
    assert proc.wait(timeout=30) == 141
    assert proc.stderr.read() == ""
    assert push_server.connections[0].close_code == 1000


def test_a_message_is_one_line_with_control_characters_escaped(push_server: PushServer) -> None:
    proc = popen_cli("-n", "2", push_server.url)
    push_server.push("two\nlines\r\n\x1b]0;title\x07\x1b[31mred\x9b\u2028end\ttab \\ stays")
    push_server.push("next")
    out, err = proc.communicate(timeout=30)
    assert (proc.returncode, err) == (0, "")
    assert out == "two\\nlines\\r\\n\\x1b]0;title\\x07\\x1b[31mred\\x9b\\u2028end\ttab \\ stays\nnext\n"


def test_raw_flag_prints_messages_exactly(push_server: PushServer) -> None:
    proc = popen_cli("--raw", "-n", "2", push_server.url)
    push_server.push("two\nlines\x1b[31m\x07")
    push_server.push("next")
    out, err = proc.communicate(timeout=30)
    assert (proc.returncode, out, err) == (0, "two\nlines\x1b[31m\x07\nnext\n", "")


def test_json_flag_escapes_what_json_dumps_leaves_raw(push_server: PushServer) -> None:
    proc = popen_cli("--json", "-n", "1", push_server.url)
    push_server.push('{"k": "a\\nb\x9b\x7f"}')  # json.dumps(ensure_ascii=False) keeps C1 and DEL as they are
    out, err = proc.communicate(timeout=30)
    assert (proc.returncode, out, err) == (0, '{\n  "k": "a\\nb\\x9b\\x7f"\n}\n', "")


def test_error_messages_escape_the_servers_control_characters(push_server: PushServer) -> None:
    proc = popen_cli(push_server.url)
    push_server.close(4000, "bye\x1b[2J")
    out, err = proc.communicate(timeout=30)
    assert (proc.returncode, out) == (1, "")
    assert err == "syncws: error: connection closed with code 4000 (bye\\x1b[2J)\n"


def test_max_size_flag_lets_a_big_message_in(push_server: PushServer) -> None:
    big = "x" * (5 * 2**20)
    refused = popen_cli("-n", "1", push_server.url)
    push_server.push(big)
    out, err = refused.communicate(timeout=30)
    assert (refused.returncode, out) == (1, "")
    assert err.startswith("syncws: error: ") and "exceeds max_msg_size" in err and err.count("\n") == 1
    for flags in (["--max-size", "0"], ["--max-size", str(6 * 2**20)]):
        proc = popen_cli("-n", "1", *flags, push_server.url)
        push_server.wait_for(connections=2 if flags[1] == "0" else 3)
        push_server.push(big)
        out, err = proc.communicate(timeout=30)
        assert (proc.returncode, out == big + "\n", err) == (0, True, "")


def test_every_help_string_is_a_whole_sentence() -> None:
    parser = build_parser()
    texts = {"description": parser.description, "epilog": parser.epilog}
    texts.update({"/".join(action.option_strings) or action.dest: action.help for action in parser._actions})
    unfinished = {name: text for name, text in texts.items() if not (text or "").rstrip().endswith(".")}
    assert unfinished == {}
    assert "no pong within half of that ends the connection (status 1)." in " ".join(run_cli("--help").stdout.split())


def test_trace_flag_logs_frames(ws_url: str) -> None:
    proc = run_cli("--trace", "-n", "1", ws_url, input="traced\n")
    assert proc.returncode == 0
    assert "syncws.trace > TEXT fin" in proc.stderr and "syncws.trace < TEXT fin" in proc.stderr


def test_flags_map_to_connect_options(tmp_path: Path, ca: trustme.CA) -> None:
    pem = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(pem))
    args = build_parser().parse_args(
        ["-H", "A: 1", "-s", "p", "--origin", "o", "--proxy", "http://127.0.0.1:3128", "--ca-file", str(pem),
         "--ping", "5", "--timeout", "3", "--max-size", "0", "--no-compress", "ws://h/"]
    )
    options = connect_options(args)
    ssl_context = options.pop("ssl")
    assert options == {
        "timeout": 3.0, "headers": [("A", "1")], "protocols": ("p",), "origin": "o",
        "proxy": "http://127.0.0.1:3128", "heartbeat": 5.0, "max_msg_size": 0, "compress": 0,
    }
    assert ssl_context.verify_mode.name == "CERT_REQUIRED"
    syncws.Options.from_kwargs({**options, "ssl": ssl_context})  # every key is a real option


def test_version_and_console_script() -> None:
    proc = run_cli("--version")
    assert (proc.returncode, proc.stdout) == (0, f"syncws {syncws.__version__}\n")
    scripts = importlib.metadata.entry_points()
    group = (
        scripts.select(group="console_scripts") if hasattr(scripts, "select")
        else scripts.get("console_scripts", [])  # type: ignore[attr-defined]
    )
    assert [ep.value for ep in group if ep.name == "syncws"] == ["syncws.cli:run"]
    script = Path(sys.executable).with_name("syncws")
    assert script.exists(), "pip install -e . puts the syncws script beside python"
    out = subprocess.run([str(script), "--version"], capture_output=True, text=True, timeout=30, env=cli_env())
    assert out.stdout == f"syncws {syncws.__version__}\n"


def test_text_flag_sends_before_the_input(push_server: PushServer) -> None:
    proc = run_cli("-q", "-t", "first", "--text", "second", push_server.url, input="third\n")
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")
    push_server.wait_for(received=3)
    assert push_server.received == ["first", "second", "third"]


@pytest.mark.parametrize(("flags", "offered"), [([], True), (["--no-compress"], False)])
def test_no_compress_flag_offers_no_compression(ws_url: str, flags: List[str], offered: bool) -> None:
    proc = run_cli("-n", "1", *flags, ws_url + "/info")
    assert proc.returncode == 0, proc.stderr
    headers = {k.lower(): v for k, v in json.loads(proc.stdout)["headers"]}
    assert ("permessage-deflate" in headers.get("sec-websocket-extensions", "")) is offered


def test_timestamps_flag_prefixes_each_message(ws_url: str) -> None:
    proc = run_cli("--timestamps", "-n", "2", ws_url, input="one\ntwo\n")
    assert proc.returncode == 0, proc.stderr
    assert re.fullmatch(r"\d\d:\d\d:\d\d\.\d{3} one\n\d\d:\d\d:\d\d\.\d{3} two\n", proc.stdout), proc.stdout


def test_eof_wait_flag_closes_after_the_input_ends(push_server: PushServer) -> None:
    """Without it (or -q) the client would keep listening to this silent server."""
    proc = run_cli("--eof-wait", "0.1", push_server.url, input="last words\n")
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")
    push_server.wait_for(received=1)
    assert push_server.received == ["last words"]
    assert push_server.connections[0].close_code == 1000


def test_show_pings_flag_answers_and_shows_pings_and_pongs(push_server: PushServer) -> None:
    proc = popen_cli("--show-pings", "--ping", "0.05", push_server.url)
    assert proc.stderr is not None
    assert _is_pong(proc.stderr.readline())  # the answer to the client's heartbeat
    push_server.wait_for(connections=1)

    async def ping() -> None:
        pong = await push_server.connections[0].ping(b"server ping")
        await pong  # the client answered

    push_server.loop.run(ping())
    push_server.close(1000)
    out, err = proc.communicate(timeout=30)
    assert (proc.returncode, out) == (0, "")
    assert "* ping b'server ping'\n" in err
    assert all(line == "* ping b'server ping'" or _is_pong(line) for line in err.splitlines()), err


def _is_pong(line: str) -> bool:
    """``* pong`` and the payload as Python shows bytes. The heartbeat's payload is random,
    so repr() may quote it with double quotes (when it holds a ' and no ")."""
    prefix = "* pong "
    if not line.startswith(prefix):
        return False
    try:
        payload = ast.literal_eval(line[len(prefix) :].rstrip("\n"))
    except (ValueError, SyntaxError):
        return False
    return isinstance(payload, bytes)


def test_hex_flag_sends_binary_written_in_hex(push_server: PushServer) -> None:
    proc = popen_cli("--hex", "-n", "1", push_server.url)
    assert proc.stdin is not None
    proc.stdin.write("00ff 10\nnot hex\n68 69\n")
    proc.stdin.flush()
    push_server.wait_for(received=2)
    push_server.push(b"\x00\xab")
    out, err = proc.communicate(timeout=30)
    assert (proc.returncode, out, err) == (0, "00ab\n", "syncws: warning: not sent, not hex: 'not hex'\n")
    assert push_server.received == [b"\x00\xff\x10", b"hi"]


def test_json_flag_keeps_its_own_newlines_even_for_json_already_pretty(push_server: PushServer) -> None:
    pretty = '{\n  "k": 1\n}'
    proc = popen_cli("--json", "-n", "2", push_server.url)
    push_server.push(pretty)
    push_server.push("not\njson")
    out, err = proc.communicate(timeout=30)
    assert (proc.returncode, out, err) == (0, pretty + "\nnot\\njson\n", "")
