"""``syncws URL`` (or ``python -m syncws URL``): an interactive WebSocket client.

Each line read from stdin is sent as a message; incoming messages are printed
as they arrive. On a terminal, input goes through readline and messages are
printed above the line being typed; with pipes it is a filter for scripts,
one message per line. Exit status: 0 after a normal close (1000), 1 with a
one-line error otherwise, 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import shutil
import signal
import ssl
import sys
import threading
import unicodedata
from typing import Any, Callable, Dict, Iterable, Iterator, List, NoReturn, Optional, Sequence, TextIO, Tuple, Union

from ._version import __version__
from .log import enable_trace
from .protocol.close_codes import WSCloseCode
from .protocol.errors import ConnectionClosed
from .protocol.messages import WSMessage, WSMsgType
from .sync.client import connect
from .sync.loop_thread import leave_signals_to_main
from .sync.websocket import SyncWebSocket

__all__ = ["build_parser", "connect_options", "format_message", "main"]

PROG = "syncws"
PROMPT = "> "
EX_OK, EX_ERROR, EX_USAGE = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Interactive WebSocket client: sends the lines you type (or pipe in), "
        "prints the messages that arrive.",
        epilog="On a terminal, Ctrl-D or Ctrl-C closes the connection. With piped input, the end of it "
        "does not (unless -q): the client prints until the server closes, -n messages came, or Ctrl-C. "
        "Exit status: 0 after a normal close (1000), 1 on any error or other close code, 2 for bad arguments.",
    )
    parser.add_argument("url", help="ws:// or wss:// URL")
    add = parser.add_argument
    add("-H", "--header", action="append", default=[], metavar="'NAME: VALUE'", help="request header (repeatable)")
    add("-s", "--subprotocol", action="append", default=[], metavar="NAME", help="subprotocol to offer (repeatable)")
    add("--origin", help="Origin header")
    add("--proxy", metavar="URL", help="http://, socks5:// ... proxy (default: from HTTPS_PROXY / HTTP_PROXY)")
    add("-k", "--insecure", action="store_true", help="do not verify the server's TLS certificate")
    add("--ca-file", metavar="PEM", help="verify the server against these CA certificates")
    add("--ping", type=_positive, metavar="SECONDS", help="ping after SECONDS of silence; no pong in half of it ends")
    add("--binary", action="store_true", help="send lines as binary messages; show incoming binary as hex")
    add("--json", action="store_true", help="pretty-print messages that are JSON")
    add("--timeout", type=_positive, default=10.0, metavar="SECONDS",
        help="bound on the opening and the closing handshake (default: 10)")
    add("-n", "--count", type=int, metavar="N", help="close after receiving N messages")
    add("-q", "--close-on-eof", action="store_true",
        help="piped input: close as soon as it ends (default: keep printing until the server closes or -n)")
    add("--trace", action="store_true", help="log every frame to stderr")
    add("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0: {text!r}")
    return value


def connect_options(args: argparse.Namespace) -> Dict[str, Any]:
    """The ``syncws.connect()`` keywords the command-line flags stand for."""
    options: Dict[str, Any] = {"timeout": args.timeout}
    headers: List[Tuple[str, str]] = []
    for item in args.header:
        name, sep, value = item.partition(":")
        if not sep or not name.strip():
            raise ValueError(f"--header {item!r} is not 'NAME: VALUE'")
        headers.append((name.strip(), value.strip()))
    if headers:
        options["headers"] = headers
    if args.subprotocol:
        options["protocols"] = tuple(args.subprotocol)
    if args.origin is not None:
        options["origin"] = args.origin
    if args.proxy is not None:
        options["proxy"] = args.proxy
    if args.insecure and args.ca_file:
        raise ValueError("--insecure and --ca-file contradict each other")
    if args.insecure:
        options["ssl"] = False
    elif args.ca_file:
        options["ssl"] = ssl.create_default_context(cafile=args.ca_file)
    if args.ping is not None:
        options["heartbeat"] = args.ping
    return options


def format_message(msg: WSMessage, *, binary_hex: bool = False, pretty_json: bool = False) -> Optional[str]:
    """How a message is shown: text as is (or pretty JSON), binary as hex or a bytes literal."""
    if msg.type is WSMsgType.TEXT:
        text: str = msg.data
        if pretty_json:
            try:
                return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
            except ValueError:
                pass
        return text
    if msg.type is WSMsgType.BINARY:
        return bytes(msg.data).hex() if binary_hex else repr(bytes(msg.data))
    return None


# -- output -----------------------------------------------------------------------------


class Output:
    """Where messages and notes go. Plain: messages to stdout, notes to stderr.
    Terminal: both above the line being typed, control characters made visible."""

    def __init__(self, stdout: TextIO, stderr: TextIO, terminal: bool) -> None:
        self.stdout = stdout
        self.stderr = stderr
        self.terminal = terminal
        self._lock = threading.Lock()
        self.broken = False

    def message(self, text: str) -> None:
        if self.terminal:
            self._above_input(f"< {line}" for line in text.split("\n"))
        else:
            self._write(self.stdout, text + "\n")

    def final(self, text: str) -> None:
        """The last words on a terminal: they replace the prompt line."""
        if self.terminal:
            self._write(self.stdout, "\r\x1b[K" + _visible(text) + "\n")

    def error(self, text: str) -> None:
        if self.terminal:
            self._write(self.stdout, "\r\x1b[K")
        self._write(self.stderr, f"{PROG}: error: {' '.join(text.split())}\n")

    def _above_input(self, lines: Iterable[str]) -> None:
        # Save the cursor, open a blank line above the input line, print there,
        # restore: readline's line and cursor stay as they were.
        width = max(shutil.get_terminal_size().columns - 1, 10)
        out = []
        for line in lines:
            for piece in _wrap(_visible(line), width):
                out.append(f"\x1b7\n\x1b[A\x1b[L{piece}\n\x1b8\x1b[B")
        self._write(self.stdout, "".join(out))

    def _write(self, stream: TextIO, text: str) -> None:
        with self._lock:
            try:
                stream.write(text)
                stream.flush()
            except (BrokenPipeError, ValueError):  # reader gone, or stream closed
                self.broken = True
                _silence(stream)


def _silence(stream: TextIO) -> None:
    """After a broken pipe, point the stream at /dev/null so the exit's flush is quiet."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


def _visible(text: str) -> str:
    """Control characters from the server must not drive the terminal."""
    return "".join(
        ch if ch == "\t" or unicodedata.category(ch) != "Cc" else ch.encode("unicode_escape").decode("ascii")
        for ch in text
    )


def _wrap(text: str, width: int) -> List[str]:
    pieces: List[str] = []
    current: List[str] = []
    used = 0
    for ch in text:
        w = 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
        if used + w > width:
            pieces.append("".join(current))
            current, used = [], 0
        current.append(ch)
        used += w
    pieces.append("".join(current))
    return pieces


# -- the session --------------------------------------------------------------------------


class Session:
    """One connection: a receiver thread prints; the main thread reads input and sends."""

    def __init__(self, ws: SyncWebSocket, args: argparse.Namespace, out: Output) -> None:
        self.ws = ws
        self.args = args
        self.out = out
        self.close_reason: Optional[str] = None
        self.ended = threading.Event()
        self._on_end: List[Callable[[], None]] = []
        self._receiver = threading.Thread(target=self._receive, name="syncws-cli-receiver", daemon=True)

    def start(self) -> None:
        self._receiver.start()

    def on_end(self, callback: Callable[[], None]) -> None:
        self._on_end.append(callback)

    def _receive(self) -> None:
        leave_signals_to_main()  # Ctrl-C must reach the main thread, waiting in a queue
        received = 0
        try:
            while True:
                msg = self.ws.receive()
                if msg.type is WSMsgType.CLOSE:
                    self.close_reason = msg.extra or None
                    continue
                if msg.type in (WSMsgType.CLOSING, WSMsgType.CLOSED):
                    break
                text = format_message(msg, binary_hex=self.args.binary, pretty_json=self.args.json)
                if text is None:
                    continue
                self.out.message(text)
                received += 1
                if self.out.broken or (self.args.count is not None and received >= self.args.count):
                    self.close()
        finally:
            self.ended.set()
            for callback in self._on_end:
                callback()

    def send(self, line: Union[bytes, str]) -> None:
        if self.args.binary:
            self.ws.send_bytes(line.encode("utf-8") if isinstance(line, str) else line)
        else:
            self.ws.send_str(line if isinstance(line, str) else line.decode("utf-8", "replace"))

    def close(self) -> None:
        try:
            self.ws.close()
        except (ConnectionClosed, RuntimeError):
            pass

    def wait(self) -> None:
        self._receiver.join()

    def status(self) -> int:
        """Exit status, after saying why it is not 0."""
        if self.out.broken:
            self.out.error("standard output was closed")
            return EX_ERROR
        exc = self.ws.exception()
        if exc is not None:
            self.out.error(f"{type(exc).__name__}: {exc}")
            return EX_ERROR
        code = self.ws.close_code
        if code != WSCloseCode.OK:
            reason = f" ({self.close_reason})" if self.close_reason else ""
            self.out.error(f"connection closed with code {code}{reason}")
            return EX_ERROR
        self.out.final("Connection closed.")
        return EX_OK


def _run_piped(session: Session, stdin_fd: int) -> None:
    """Lines from a pipe or file: a reader thread feeds a queue that the main thread
    sends from, so the end of the connection never has to interrupt a blocked read."""
    events: "queue.Queue[Tuple[str, Optional[bytes]]]" = queue.Queue()
    session.on_end(lambda: events.put(("end", None)))

    def read_lines() -> None:
        leave_signals_to_main()
        try:
            for line in _lines(stdin_fd):
                events.put(("line", line))
        finally:
            events.put(("eof", None))

    threading.Thread(target=read_lines, name="syncws-cli-stdin", daemon=True).start()
    session.start()
    try:
        while True:
            kind, line = events.get()
            if kind == "end":
                return
            if kind == "line" and line is not None:
                try:
                    session.send(line)
                except ConnectionClosed:
                    pass  # the receiver reports the end
            elif kind == "eof" and session.args.close_on_eof:
                session.close()
    except KeyboardInterrupt:
        session.close()


def _lines(fd: int) -> Iterator[bytes]:
    """Lines from a file descriptor, without their line ends (os.read: no buffer lock
    is left held by this daemon thread at interpreter exit)."""
    pending = b""
    while True:
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for line in lines:
            yield line[:-1] if line.endswith(b"\r") else line
    if pending:
        yield pending


def _run_terminal(session: Session) -> None:
    """Lines typed at a terminal, with readline; when the connection ends first, the
    main thread is woken from input() by a SIGINT sent to it alone."""
    try:
        import readline  # noqa: F401  (line editing and history for input())
    except ImportError:  # pragma: no cover - Windows without pyreadline
        pass
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.default_int_handler)
    lock = threading.Lock()
    reading = [False]
    main_ident = threading.get_ident()

    def interrupt_input() -> None:
        with lock:
            if reading[0]:
                _interrupt(main_ident)

    session.on_end(interrupt_input)
    session.start()
    try:
        while True:
            with lock:
                if session.ended.is_set():
                    break
                reading[0] = True
            try:
                line = input(PROMPT)
            finally:
                with lock:
                    reading[0] = False
            try:
                session.send(line)
            except ConnectionClosed:
                break
    except (EOFError, KeyboardInterrupt):  # Ctrl-D, Ctrl-C, or the receiver's wake-up
        pass
    if not session.ended.is_set():
        session.close()


def _interrupt(thread_ident: int) -> None:
    if hasattr(signal, "pthread_kill"):
        signal.pthread_kill(thread_ident, signal.SIGINT)
    else:  # pragma: no cover - Windows
        import _thread

        _thread.interrupt_main()


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the client; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.count is not None and args.count < 1:
        parser.error("--count must be at least 1")
    try:
        options = connect_options(args)
    except (ValueError, OSError) as exc:
        parser.error(str(exc))
    stdin, stdout, stderr = sys.stdin, sys.stdout, sys.stderr
    terminal = _isatty(stdin) and _isatty(stdout)
    out = Output(stdout, stderr, terminal)
    if args.trace:
        enable_trace()
    try:
        ws = connect(args.url, **options)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        out.error(f"{type(exc).__name__}: {exc}")
        return EX_ERROR
    session = Session(ws, args, out)
    if terminal:
        chosen = f" (subprotocol {ws.protocol})" if ws.protocol else ""
        out.final(f"Connected to {args.url}{chosen}. Ctrl-D or Ctrl-C to close.")
        _run_terminal(session)
    else:
        _run_piped(session, stdin.fileno())
    _join(session)
    return session.status()


def _join(session: Session) -> None:
    # A wake-up SIGINT that raced the end of input() may still be pending here.
    for _ in range(2):
        try:
            session.wait()
            return
        except KeyboardInterrupt:
            continue


def _isatty(stream: Optional[TextIO]) -> bool:
    try:
        return stream is not None and stream.isatty()
    except ValueError:
        return False


def run() -> NoReturn:
    """The console script's entry point."""
    try:
        status = main()
    except KeyboardInterrupt:  # a second Ctrl-C while closing
        status = 130
    sys.exit(status)

