"""TLS settings: verified by default (certifi, or SSL_CERT_FILE), insecure only when asked."""

from __future__ import annotations

import hashlib
import os
import ssl
import threading
from typing import Dict, Optional, Tuple, Union

import certifi

from .caller import warn_at_caller
from .errors import ClientConnectionError

__all__ = [
    "Fingerprint",
    "SSLArg",
    "ClientSSLError",
    "ServerFingerprintMismatch",
    "default_context",
    "resolve_ssl",
    "warn_insecure",
]


class ClientSSLError(ClientConnectionError, ssl.SSLError):
    """The TLS handshake failed: untrusted certificate, wrong host name, bad pin."""

    def __str__(self) -> str:
        return str(self.args[0])


class ServerFingerprintMismatch(ClientSSLError):
    def __init__(self, expected: bytes, got: bytes) -> None:
        super().__init__(
            f"server certificate fingerprint mismatch: expected sha256 {expected.hex()}, got {got.hex()}"
        )
        self.expected = expected
        self.got = got


class Fingerprint:
    """Pin the server certificate by the SHA-256 digest of its DER form (aiohttp's API)."""

    def __init__(self, fingerprint: bytes) -> None:
        if len(fingerprint) != 32:
            raise ValueError("fingerprint must be a 32-byte SHA-256 digest (MD5 and SHA-1 are insecure)")
        self.fingerprint = fingerprint

    def check(self, der: Optional[bytes]) -> None:
        got = hashlib.sha256(der or b"").digest()
        if got != self.fingerprint:
            raise ServerFingerprintMismatch(self.fingerprint, got)


SSLArg = Union[None, bool, ssl.SSLContext, Fingerprint]

_lock = threading.Lock()
_contexts: Dict[Tuple[Optional[str], Optional[str]], ssl.SSLContext] = {}
_warned_insecure = False


def default_context() -> ssl.SSLContext:
    """The verifying context: SSL_CERT_FILE / SSL_CERT_DIR when set, else certifi's bundle.

    Loading a CA bundle costs milliseconds, so contexts are cached per setting.
    """
    cafile = os.environ.get("SSL_CERT_FILE") or None
    capath = os.environ.get("SSL_CERT_DIR") or None
    key = (cafile, capath)
    with _lock:
        ctx = _contexts.get(key)
        if ctx is None:
            if cafile is None and capath is None:
                cafile = certifi.where()
            ctx = ssl.create_default_context(cafile=cafile, capath=capath)
            _contexts[key] = ctx
        return ctx


def _insecure_context() -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def warn_insecure() -> None:
    """Warn once per process that ssl=False turns verification off, at the application's line."""
    global _warned_insecure
    if not _warned_insecure:
        _warned_insecure = True
        warn_at_caller(
            "ssl=False: TLS certificates are not verified; anyone on the path can read and change the traffic",
            UserWarning,
        )


def resolve_ssl(arg: SSLArg, secure: bool) -> Tuple[Optional[ssl.SSLContext], Optional[Fingerprint]]:
    """The context to use (None for plain TCP) and the pin to check after the TLS handshake."""
    if not secure:
        return None, None
    if arg is None or arg is True:
        return default_context(), None
    if arg is False:
        warn_insecure()  # connect() and ws_connect() warned already, at the caller's line
        return _insecure_context(), None
    if isinstance(arg, Fingerprint):
        return _insecure_context(), arg
    if isinstance(arg, ssl.SSLContext):
        return arg, None
    raise TypeError(f"ssl must be None, True, False, an SSLContext or a Fingerprint, not {type(arg).__name__}")
