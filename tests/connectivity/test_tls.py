"""TLS: trusted and untrusted CAs, host names, server_hostname, fingerprint pins,
client certificates, and ssl=False. The server's certificate names "localhost" only."""

from __future__ import annotations

import hashlib
import socket
import ssl
import struct
from typing import Any

import pytest
import trustme

import syncws
import syncws.aio.tls
from tests.apis import Client
from tests.connectivity.peers import AppServer

pytestmark = pytest.mark.timeout(30)


def _fingerprint(cert: trustme.LeafCert) -> bytes:
    der = ssl.PEM_cert_to_DER_cert(cert.cert_chain_pems[0].bytes().decode())
    return hashlib.sha256(der).digest()


def test_trusted_ca(api: Client, tls_app: AppServer, client_ssl: ssl.SSLContext) -> None:
    assert api.echo(f"wss://localhost:{tls_app.port}/", "trusted", ssl=client_ssl) == "trusted"


def test_untrusted_ca_refused(api: Client, tls_app: AppServer) -> None:
    with pytest.raises(syncws.ClientSSLError) as err:
        api.connect(f"wss://localhost:{tls_app.port}/")  # default: certifi or SSL_CERT_FILE
    assert isinstance(err.value, ssl.SSLError) and isinstance(err.value, syncws.ClientConnectionError)
    assert "certificate verify failed" in str(err.value)


def test_wrong_host_name_refused(api: Client, tls_app: AppServer, client_ssl: ssl.SSLContext) -> None:
    with pytest.raises(syncws.ClientSSLError, match=r"127\.0\.0\.1"):
        api.connect(f"wss://127.0.0.1:{tls_app.port}/", ssl=client_ssl)


def test_server_hostname_overrides_the_name(api: Client, tls_app: AppServer, client_ssl: ssl.SSLContext) -> None:
    tls_app.sni.clear()
    url = f"wss://127.0.0.1:{tls_app.port}/"
    assert api.echo(url, "sni", ssl=client_ssl, server_hostname="localhost") == "sni"
    assert tls_app.sni == ["localhost"]
    with pytest.raises(syncws.ClientSSLError):
        api.connect(f"wss://localhost:{tls_app.port}/", ssl=client_ssl, server_hostname="other.example")


def test_fingerprint_pin(api: Client, tls_app: AppServer, localhost_cert: trustme.LeafCert) -> None:
    """A pin replaces CA and name checks: it matches this very certificate or nothing."""
    pin = syncws.Fingerprint(_fingerprint(localhost_cert))
    assert api.echo(f"wss://127.0.0.1:{tls_app.port}/", "pinned", ssl=pin) == "pinned"
    wrong = syncws.Fingerprint(hashlib.sha256(b"another certificate").digest())
    with pytest.raises(syncws.ServerFingerprintMismatch) as err:
        api.connect(f"wss://localhost:{tls_app.port}/", ssl=wrong)
    assert err.value.got == pin.fingerprint
    with pytest.raises(ValueError, match="SHA-256"):
        syncws.Fingerprint(hashlib.sha1(b"x").digest())


def test_client_certificate(
    api: Client, mtls_app: AppServer, client_ssl: ssl.SSLContext, client_cert_ssl: ssl.SSLContext
) -> None:
    url = f"wss://localhost:{mtls_app.port}/"
    assert api.echo(url, "with cert", ssl=client_cert_ssl) == "with cert"
    with pytest.raises(syncws.ClientConnectionError):
        api.connect(url, ssl=client_ssl, timeout=5)


def test_ssl_false_is_insecure_and_says_so(api: Client, tls_app: AppServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(syncws.aio.tls, "_warned_insecure", set())
    with pytest.warns(UserWarning, match="not verified"):
        assert api.echo(f"wss://127.0.0.1:{tls_app.port}/", "insecure", ssl=False) == "insecure"


def test_connector_default_context(api: Client, tls_app: AppServer, client_ssl: ssl.SSLContext) -> None:
    connector = syncws.TCPConnector(ssl=client_ssl)
    assert api.echo(f"wss://localhost:{tls_app.port}/", "connector", connector=connector) == "connector"


def test_a_reset_during_the_tls_handshake_is_a_client_connection_error(api: Client, raw_server: Any) -> None:
    """The server resets TCP on the ClientHello: a typed ClientConnectionError that names the
    peer and the phase, not a bare ConnectionResetError (as before)."""

    async def script(peer: Any) -> None:
        await peer.reader.read(1)  # the ClientHello has arrived
        sock = peer.writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        peer.writer.transport.abort()  # with SO_LINGER 0: RST

    server = raw_server(script)
    with pytest.raises(syncws.ClientConnectionError) as raised:
        api.connect("wss" + server.url[2:], timeout=10)
    assert "TLS handshake" in str(raised.value) and f":{server.port}" in str(raised.value)
    assert isinstance(raised.value, syncws.ClientError)
