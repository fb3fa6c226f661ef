"""``syncws URL`` (or ``python -m syncws URL``): an interactive WebSocket client.

Each line read from stdin is sent as a message; incoming messages are printed
as they arrive. On a terminal, input goes through readline and messages are
printed above the line being typed; with pipes it is a filter for scripts,
one message per line. Control characters in messages (newlines included) are
escaped unless ``--raw``, and never reach a terminal raw. Exit status: 0 after a
normal close (1000), 1 with a one-line error otherwise, 2 for bad arguments,
141 (quietly) when stdout was closed, as with ``| head``.
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
import time
import unicodedata
from typing import Any, Callable, Dict, Iterable, Iterator, List, NoReturn, Optional, Sequence, TextIO, Tuple, Union
from urllib.parse import urlsplit

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
EX_SIGINT, EX_SIGPIPE = 130, 141  # 128 + the signal's number, as a shell reports a command it killed
SCHEMES = ("ws", "wss", "http", "https")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Interactive WebSocket client: sends the lines you type (or pipe in), "
        "prints the messages that arrive.",
        add_help=False,
        epilog="On a terminal, Ctrl-D or Ctrl-C closes the connection. With piped input, the end of it "
        "does not (unless -q): the client prints until the server closes, -n messages came, or Ctrl-C. "
        "Each message is printed on one line, its control characters (newlines included) escaped as \\n, "
        "\\x1b ... unless --raw; at a terminal they are always escaped. "
        "Exit status: 0 after a normal close (1000), 1 on any error or other close code, 2 for bad arguments, "
        "141 (with no message) when standard output was closed, as by | head.",
    )
    parser.add_argument("url", help="ws://, wss://, http:// or https:// URL.")
    add = parser.add_argument
    add("-h", "--help", action="help", help="Show this help and exit.")
    add("-H", "--header", action="append", default=[], metavar="'NAME: VALUE'",
        help="Request header (repeatable).")
    add("-s", "--subprotocol", action="append", default=[], metavar="NAME",
        help="Subprotocol to offer (repeatable, in order of preference).")
    add("--origin", help="Origin header.")
    add("--proxy", metavar="URL", help="http(s)://, socks5:// ... proxy (default: from HTTPS_PROXY / HTTP_PROXY).")
    add("-k", "--insecure", action="store_true", help="Do not verify the server's TLS certificate.")
    add("--ca-file", metavar="PEM", help="Verify the server against these CA certificates.")
    add("--ping", type=_positive, metavar="SECONDS",
        help="Ping after SECONDS of silence; no pong within half of that ends the connection (status 1).")
    add("--binary", action="store_true", help="Send lines as binary messages; show incoming binary as hex.")
    add("--hex", action="store_true",
        help="Send lines as binary messages written in hex (spaces allowed); show incoming binary as hex.")
    add("--json", action="store_true", help="Pretty-print messages that are JSON (on several lines).")
    add("--raw", action="store_true",
        help="Print text messages exactly as they came, newlines and control characters included. "
        "At a terminal only the newlines are kept: other control characters stay escaped.")
    add("--max-size", type=_size, default=None, metavar="BYTES",
        help="Largest message accepted, 0 for no limit (default: 4194304, that is 4 MiB).")
    add("--show-pings", action="store_true",
        help="Show the pings and pongs that arrive (on stderr, unless at a terminal); pings are still answered.")
    add("--no-compress", action="store_true", help="Do not offer permessage-deflate compression.")
    add("-t", "--text", action="append", default=[], metavar="TEXT",
        help="Message to send as soon as connected, before any input (repeatable, in order).")
    add("--timestamps", action="store_true",
        help="Start each message with the local time it arrived at (HH:MM:SS.mmm).")
    add("--eof-wait", type=_positive, metavar="SECONDS",
        help="Piped input: close SECONDS after it ends, printing what arrives meanwhile.")
    add("--timeout", type=_positive, default=10.0, metavar="SECONDS",
        help="Bound on the opening and the closing handshake (default: 10).")
    add("-n", "--count", type=int, metavar="N", help="Close after receiving N messages.")
    add("-q", "--close-on-eof", action="store_true",
        help="Piped input: close as soon as it ends (default: keep printing until the server closes or -n).")
    add("--trace", action="store_true", help="Log every frame to stderr.")
    add("--version", action="version", version=f"%(prog)s {__version__}", help="Print the version and exit.")
    return parser


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0: {text!r}")
    return value


def _size(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number of bytes: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0: {text!r}")
    return value


def _check_url(url: str) -> None:
    """A URL connect() would refuse before any I/O is a bad argument (status 2)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises ValueError for a bad port)
    except ValueError as exc:
        raise ValueError(f"bad URL {url!r}: {exc}") from None
    if parts.scheme.lower() not in SCHEMES:
        raise ValueError(f"bad URL {url!r}: the scheme must be ws, wss, http or https")
    if not parts.hostname:
        raise ValueError(f"bad URL {url!r}: no host")


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
    if getattr(args, "max_size", None) is not None:
        options["max_msg_size"] = args.max_size
    if getattr(args, "no_compress", False):
        options["compress"] = 0
    if getattr(args, "show_pings", False):
        options["autoping"] = False  # the receiver answers them, then shows them
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


def _timestamp() -> str:
    now = time.time()
    return time.strftime("%H:%M:%S", time.localtime(now)) + f".{int(now % 1 * 1000):03d}"


def _display(msg: WSMessage, *, binary_hex: bool, pretty_json: bool) -> Optional[List[str]]:
    """format_message() as lines: one, unless the newlines are --json's own."""
    if pretty_json and msg.type is WSMsgType.TEXT:
        try:  # as format_message(): json.dumps escapes the newlines inside strings
            return json.dumps(json.loads(msg.data), indent=2, ensure_ascii=False).split("\n")
        except ValueError:
            pass
    text = format_message(msg, binary_hex=binary_hex)
    return None if text is None else [text]


# -- output -----------------------------------------------------------------------------


class Output:
    """Where messages and notes go. Plain: messages to stdout, notes to stderr.
    Terminal (interactive): both above the line being typed.

    A message is one line, its control characters escaped, unless ``raw``; and
    whatever goes to a terminal (stdout a tty, interactive or not) has its
    control characters escaped even with ``raw``: only its newlines stay."""

    def __init__(self, stdout: TextIO, stderr: TextIO, terminal: bool, *, raw: bool = False) -> None:
        self.stdout = stdout
        self.stderr = stderr
        self.terminal = terminal
        self.raw = raw
        self.stdout_tty = terminal or _isatty(stdout)
        self._lock = threading.Lock()
        self.broken = False

    def message(self, lines: Sequence[str]) -> None:
        """One message, as lines of display (several only for --json's pretty-printing)."""
        if self.raw:
            lines = [piece for line in lines for piece in line.split("\n")]
            if not self.stdout_tty:
                self._write(self.stdout, "\n".join(lines) + "\n")
                return
        lines = [_visible(line) for line in lines]
        if self.terminal:
            self._above_input(f"< {line}" for line in lines)
        else:
            self._write(self.stdout, "\n".join(lines) + "\n")

    def note(self, text: str) -> None:
        """Not a message (a ping, a pong): ``* `` above the input at a terminal, else on stderr."""
        if self.terminal:
            self._above_input([f"* {text}"])
        else:
            self._write(self.stderr, f"* {_visible(text)}\n")

    def final(self, text: str) -> None:
        """The last words on a terminal: they replace the prompt line."""
        if self.terminal:
            self._write(self.stdout, "\r\x1b[K" + _visible(text) + "\n")

    def error(self, text: str, *, label: str = "error") -> None:
        if self.terminal:
            self._write(self.stdout, "\r\x1b[K")
        self._write(self.stderr, f"{PROG}: {label}: {_visible(' '.join(text.split()))}\n")

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
    """Control characters from the server must not drive the terminal nor split a
    message over lines: C0 and C1 controls (but tab) and the Unicode line and paragraph
    separators are escaped as Python writes them (\\n, \\x1b, \\x9b, \\u2028)."""
    return "".join(
        ch if ch == "\t" or unicodedata.category(ch) not in _ESCAPED else ch.encode("unicode_escape").decode("ascii")
        for ch in text
    )


_ESCAPED = frozenset({"Cc", "Zl", "Zp"})


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
                if msg.type in (WSMsgType.PING, WSMsgType.PONG):
                    self._control(msg)
                    continue
                lines = _display(msg, binary_hex=self.args.binary or self.args.hex, pretty_json=self.args.json)
                if lines is None:
                    continue
                if self.args.timestamps:
                    lines = [_timestamp() + " " + lines[0], *lines[1:]]
                self.out.message(lines)
                received += 1
                if self.out.broken or (self.args.count is not None and received >= self.args.count):
                    self.close()
        finally:
            self.ended.set()
            for callback in self._on_end:
                callback()

    def _control(self, msg: WSMessage) -> None:
        if msg.type is WSMsgType.PING:
            try:
                self.ws.pong(msg.data)
            except (ConnectionClosed, RuntimeError):
                pass
        stamp = _timestamp() + " " if self.args.timestamps else ""
        self.out.note(f"{stamp}{msg.type.name.lower()} {bytes(msg.data)!r}")

    def send(self, line: Union[bytes, str]) -> None:
        if self.args.hex:
            text = line.decode("utf-8", "replace") if isinstance(line, bytes) else line
            try:
                data = bytes.fromhex(text)
            except ValueError:
                self.out.error(f"not sent, not hex: {text!r}", label="warning")
                return
            self.ws.send_bytes(data)
        elif self.args.binary:
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
        if self.out.broken:  # as with `| head`: quiet, like a command killed by SIGPIPE
            return EX_SIGPIPE
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
    eof_wait: Optional[float] = session.args.eof_wait
    deadline: Optional[float] = None  # when --eof-wait closes
    try:
        while True:
            try:
                timeout = None if deadline is None else max(deadline - time.monotonic(), 0)
                kind, line = events.get(timeout=timeout)
            except queue.Empty:
                session.close()
                deadline = None
                continue
            if kind == "end":
                return
            if kind == "line" and line is not None:
                try:
                    session.send(line)
                except ConnectionClosed:
                    pass  # the receiver reports the end
            elif kind == "eof" and session.args.close_on_eof:
                session.close()
            elif kind == "eof" and eof_wait is not None:
                deadline = time.monotonic() + eof_wait
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
        _check_url(args.url)
        options = connect_options(args)
    except (ValueError, OSError) as exc:
        parser.error(str(exc))
    stdin, stdout, stderr = sys.stdin, sys.stdout, sys.stderr
    terminal = _isatty(stdin) and _isatty(stdout)
    out = Output(stdout, stderr, terminal, raw=args.raw)
    if args.trace:
        enable_trace()
    try:
        ws = connect(args.url, **options)
    except KeyboardInterrupt:
        return EX_SIGINT
    except Exception as exc:
        out.error(f"{type(exc).__name__}: {exc}")
        return EX_ERROR
    session = Session(ws, args, out)
    for text in args.text:
        try:
            session.send(text)
        except ConnectionClosed:
            break  # the receiver reports the end
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
        status = EX_SIGINT
    except BrokenPipeError:  # e.g. `syncws --help | head -1`
        _silence(sys.stdout)
        status = EX_SIGPIPE
    sys.exit(status)

