"""The command line on a real pseudo-terminal (pexpect), its screen rendered by a
terminal emulator (pyte): messages appear above the line being typed, which stays
intact, cursor included."""

from __future__ import annotations

import asyncio
import sys
from typing import Callable, Iterator, List, Tuple

import pexpect
import pyte
import pytest

from tests.cli.conftest import ROOT, PushServer, cli_env

COLS, ROWS = 80, 24


class Terminal:
    """``python -m syncws ARGS`` on a pty; everything it prints is fed to a screen."""

    def __init__(self, *args: str, stdin_devnull: bool = False) -> None:
        self.screen = pyte.Screen(COLS, ROWS)
        self._stream = pyte.Stream(self.screen)
        self.output = ""  # everything read from the pty, as it came
        env = cli_env()
        env["TERM"] = "xterm"
        env["INPUTRC"] = "/dev/null"  # no user readline settings
        command, argv = sys.executable, ["-m", "syncws", *args]
        if stdin_devnull:  # `syncws URL </dev/null`: a filter, but printing to the terminal
            command, argv = "/bin/sh", ["-c", 'exec "$0" "$@" </dev/null', sys.executable, *argv]
        self.child = pexpect.spawn(
            command, argv, cwd=str(ROOT), env=env,
            dimensions=(ROWS, COLS), encoding="utf-8", timeout=20,
        )
        self.child.logfile_read = self

    # pexpect's log: every byte read from the pty goes to the emulator
    def write(self, data: str) -> None:
        self.output += data
        self._stream.feed(data)

    def flush(self) -> None:
        pass

    def expect(self, pattern: str) -> None:
        self.child.expect_exact(pattern)

    def wait_screen(self, condition: Callable[[], bool]) -> None:
        """Read output until the screen meets ``condition`` (pexpect's timeout bounds it)."""
        while not condition():
            self.child.read_nonblocking(4096, timeout=self.child.timeout)

    def lines(self) -> List[str]:
        return [line.rstrip() for line in self.screen.display if line.strip()]

    def cursor(self) -> Tuple[int, str]:
        """(column, text of the cursor's row)."""
        return self.screen.cursor.x, self.screen.display[self.screen.cursor.y].rstrip()

    def finish(self) -> int:
        self.child.expect(pexpect.EOF)
        self.child.close()
        assert self.child.exitstatus is not None, f"killed by signal {self.child.signalstatus}"
        return self.child.exitstatus


@pytest.fixture
def term(push_server: PushServer) -> Iterator[Terminal]:
    terminal = Terminal(push_server.url)
    terminal.expect("Ctrl-D or Ctrl-C to close.")
    terminal.expect("> ")
    yield terminal
    if terminal.child.isalive():
        terminal.child.terminate(force=True)


def test_typed_lines_are_sent_and_ctrl_d_closes(term: Terminal, push_server: PushServer) -> None:
    term.child.send("hello there\r")
    push_server.wait_for(received=1)
    assert push_server.received == ["hello there"]
    push_server.push("hi back")
    term.expect("< hi back")
    term.child.sendcontrol("d")
    assert term.finish() == 0
    assert term.lines() == [
        f"Connected to {push_server.url}. Ctrl-D or Ctrl-C to close.",
        "> hello there",
        "< hi back",
        "Connection closed.",
    ]


def test_a_message_arriving_while_typing_does_not_garble_the_line(term: Terminal, push_server: PushServer) -> None:
    term.child.send("abc")
    term.expect("abc")
    push_server.push("news flash")
    term.expect("< news flash")
    assert term.lines()[-2:] == ["< news flash", "> abc"]
    assert term.cursor() == (5, "> abc")  # still right after what was typed
    term.child.send("\x02\x02X")  # readline's editing still agrees with the screen: Ctrl-B twice, insert
    term.wait_screen(lambda: term.cursor() == (4, "> aXbc"))
    term.child.send("\x05!\r")  # Ctrl-E: to the end
    push_server.wait_for(received=1)
    assert push_server.received == ["aXbc!"]
    term.wait_screen(lambda: term.lines()[-2:] == ["> aXbc!", ">"])
    term.child.sendcontrol("d")
    assert term.finish() == 0


def test_long_messages_wrap_above_the_input_and_stay_one_line(term: Terminal, push_server: PushServer) -> None:
    term.child.send("typing")
    term.expect("typing")
    long = "x" * 150
    push_server.push(long + "\nsecond line")
    # one message, one line: wrapped in three rows, not overwriting the input line
    term.wait_screen(lambda: "".join(term.lines()[-4:-1]) == "< " + long + "\\nsecond line")
    assert term.lines()[-1] == "> typing" and term.cursor() == (8, "> typing")
    term.child.sendcontrol("c")
    assert term.finish() == 0


def test_raw_flag_at_a_terminal_keeps_newlines_but_escapes_the_rest(push_server: PushServer) -> None:
    term = Terminal("--raw", "--count", "1", push_server.url)
    term.expect("> ")
    push_server.push("first line\nsecond \x1b[2Jline\r")
    assert term.finish() == 0
    assert term.lines()[1:] == ["< first line", "< second \\x1b[2Jline\\r", "Connection closed."]


@pytest.mark.parametrize("flags", [[], ["--raw"]])
def test_filter_mode_printing_to_a_terminal_escapes_control_characters(
    push_server: PushServer, flags: List[str]
) -> None:
    term = Terminal(*flags, push_server.url, stdin_devnull=True)
    push_server.push("\x1b]0;pwned\x07\x1b[41mred\x9b2J")
    term.expect("red")
    push_server.push("one\nmessage")
    term.expect("message")
    push_server.close(1000)
    assert term.finish() == 0
    assert "\x1b" not in term.output and "\x07" not in term.output and "\x9b" not in term.output
    assert term.screen.title == ""  # the server did not set the terminal's title
    second = ["one\\nmessage"] if not flags else ["one", "message"]
    assert term.lines() == ["\\x1b]0;pwned\\x07\\x1b[41mred\\x9b2J", *second]


def test_control_characters_from_the_server_are_shown_not_obeyed(term: Terminal, push_server: PushServer) -> None:
    push_server.push("\x1b[2J\x1b[Hgotcha\x07")
    term.expect("gotcha")
    assert term.lines()[0].startswith("Connected to")  # the screen was not cleared
    assert "< \\x1b[2J\\x1b[Hgotcha\\x07" in term.lines()
    term.child.sendcontrol("d")
    assert term.finish() == 0


def test_server_close_wakes_the_prompt_and_exits_0(term: Terminal, push_server: PushServer) -> None:
    term.child.send("half a line")
    term.expect("half a line")
    push_server.close(1000, "done")
    assert term.finish() == 0
    assert term.lines()[-1] == "Connection closed."


def test_abnormal_server_close_exits_1_with_the_code(term: Terminal, push_server: PushServer) -> None:
    push_server.close(4000, "go away")
    assert term.finish() == 1
    assert term.lines()[-1] == "syncws: error: connection closed with code 4000 (go away)"


def test_ctrl_c_closes_with_1000(term: Terminal, push_server: PushServer) -> None:
    term.child.sendcontrol("c")
    assert term.finish() == 0
    push_server.wait_for(connections=1)
    assert push_server.connections[0].close_code == 1000


def test_json_messages_are_pretty_printed_line_by_line(push_server: PushServer) -> None:
    term = Terminal("--json", "--count", "1", push_server.url)
    term.expect("> ")
    push_server.push('{"k": [1]}')
    assert term.finish() == 0
    assert term.lines()[1:] == ["< {", '<   "k": [', "<     1", "<   ]", "< }", "Connection closed."]


def test_show_pings_at_a_terminal_shows_them_escaped_above_the_input(push_server: PushServer) -> None:
    term = Terminal("--show-pings", push_server.url)
    term.expect("> ")
    term.child.send("abc")
    term.expect("abc")
    push_server.wait_for(connections=1)

    async def ping_then_pong() -> None:
        server = push_server.connections[0]
        answered = await server.ping(b"\x1b[2Jping\x07")
        await asyncio.wait_for(answered, 10)  # the client still answers the pings it shows
        await server.pong(b"\x1b]0;pwned\x07")

    push_server.loop.run(ping_then_pong())
    term.wait_screen(lambda: any(line.startswith("* pong") for line in term.lines()))
    assert term.lines()[1:] == ["* ping b'\\x1b[2Jping\\x07'", "* pong b'\\x1b]0;pwned\\x07'", "> abc"]
    assert term.cursor() == (5, "> abc")  # the line being typed is intact
    assert term.lines()[0].startswith("Connected to") and term.screen.title == ""  # shown, not obeyed
    term.child.sendcontrol("c")
    assert term.finish() == 0
