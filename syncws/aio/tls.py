"""TLS settings: verified by default (certifi, or SSL_CERT_FILE), insecure only when asked."""

from __future__ import annotations

import hashlib
import os
import ssl
import threading
from typing import Any, Dict, Optional, Set, Tuple, Union

import certifi

from .caller import warn_at_caller
from .errors import ClientConnectionError, ProxyError

__all__ = [
    "Fingerprint",
    "SSLArg",
    "ClientSSLError",
    "ProxySSLError",
    "ServerFingerprintMismatch",
    "default_context",
    "check_pin",
    "resolve_proxy_ssl",
    "resolve_ssl",
    "warn_insecure",
    "warn_unverified",
]


class ClientSSLError(ClientConnectionError, ssl.SSLError):
    """The TLS handshake failed: untrusted certificate, wrong host name, bad pin."""

    def __str__(self) -> str:
        return str(self.args[0])


class ProxySSLError(ProxyError, ClientSSLError):
    """The TLS handshake with an https:// proxy failed (untrusted certificate, wrong name):
    both a ProxyError and an ``ssl.SSLError``."""


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
_warned_insecure: Set[str] = set()


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


def warn_insecure(option: str = "ssl") -> None:
    """Warn once per process and option that ``ssl=False`` or ``proxy_ssl=False`` turns
    verification off, at the application's line."""
    if option not in _warned_insecure:
        _warned_insecure.add(option)
        warn_at_caller(
            f"{option}=False: TLS certificates are not verified; anyone on the path can read and change the traffic",
            UserWarning,
        )


def warn_unverified(ssl_arg: SSLArg, proxy_ssl: SSLArg) -> None:
    """From connect() and ws_connect(), so the warning names the application's line."""
    if ssl_arg is False:
        warn_insecure("ssl")
    if proxy_ssl is False:
        warn_insecure("proxy_ssl")


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


def resolve_proxy_ssl(arg: SSLArg) -> ssl.SSLContext:
    """The context for TLS to an https:// proxy: its own setting, never the target's ``ssl=``."""
    if arg is None or arg is True:
        return default_context()
    if arg is False:
        warn_insecure("proxy_ssl")  # connect() and ws_connect() warned already, at the caller's line
        return _insecure_context()
    if isinstance(arg, ssl.SSLContext):
        return arg
    raise TypeError(f"proxy_ssl must be None, True, False or an SSLContext, not {type(arg).__name__}")


def check_pin(transport: Any, pin: Optional[Fingerprint]) -> None:
    """After the TLS handshake: the certificate pinned with ``ssl=Fingerprint(...)``, if any;
    the transport is aborted on a mismatch."""
    if pin is None:
        return
    ssl_object = transport.get_extra_info("ssl_object")
    try:
        pin.check(ssl_object.getpeercert(binary_form=True) if ssl_object else None)
    except BaseException:
        transport.abort()
        raise
