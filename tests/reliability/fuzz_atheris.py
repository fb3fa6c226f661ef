"""Coverage-guided fuzzing (atheris / libFuzzer) of frame and handshake parsing. Not run in CI.

    pip install atheris
    python tests/reliability/fuzz_atheris.py -max_total_time=300 [corpus_dir]

The first input byte picks the target: frames (MessageReader.feed, with or
without permessage-deflate, split into chunks by the input itself) or the
handshake response (ResponseParser.feed + validate_response). Any exception
other than a WebSocketError subclass is a crash that libFuzzer reports
with the input that caused it; -timeout=N (default 1200 s, use e.g. 5)
catches hangs.
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports():
    from syncws.protocol.deflate import DeflateParams, Inflater
    from syncws.protocol.errors import ProtocolError, WebSocketError
    from syncws.protocol.handshake import ResponseParser, accept_key, validate_response
    from syncws.protocol.messages import WSMsgType
    from syncws.protocol.reader import MessageReader

KEY = "dGhlIHNhbXBsZSBub25jZQ=="
PREFIX = (
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    f"Sec-WebSocket-Accept: {accept_key(KEY)}\r\n"
).encode()


def fuzz_frames(fdp: atheris.FuzzedDataProvider) -> None:
    deflate = fdp.ConsumeBool()
    max_size = fdp.PickValueInList([0, 125, 65536, 4 * 2**20])
    reader = MessageReader(max_msg_size=max_size, inflater=Inflater(DeflateParams()) if deflate else None)
    while fdp.remaining_bytes():
        chunk = fdp.ConsumeBytes(fdp.ConsumeIntInRange(1, 512))
        for msg in reader.feed(chunk):
            if msg.type is WSMsgType.ERROR:
                assert isinstance(msg.data, ProtocolError)


def fuzz_handshake(fdp: atheris.FuzzedDataProvider) -> None:
    parser = ResponseParser()
    compress = fdp.PickValueInList([0, 9, 15])
    protocols = ["chat"] if fdp.ConsumeBool() else []
    first = True
    while fdp.remaining_bytes():
        chunk = fdp.ConsumeBytes(fdp.ConsumeIntInRange(1, 512))
        if first and fdp.ConsumeBool():
            chunk = PREFIX + chunk  # start from a valid head so the validator is reached often
        first = False
        response = parser.feed(chunk)
        if response is not None:
            validate_response(response, KEY, protocols=protocols, compress=compress)
            return


def test_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    target = fuzz_frames if fdp.ConsumeBool() else fuzz_handshake
    try:
        target(fdp)
    except WebSocketError:
        pass


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
