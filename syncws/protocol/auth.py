"""HTTP Basic credentials for the opening handshake."""

from __future__ import annotations

import base64
from typing import NamedTuple

__all__ = ["BasicAuth"]


class BasicAuth(NamedTuple):
    """aiohttp's ``BasicAuth``: login, password and the encoding used on the wire."""

    login: str
    password: str = ""
    encoding: str = "latin1"

    def encode(self) -> str:
        if ":" in self.login:
            raise ValueError('a ":" is not allowed in a Basic auth login')
        raw = f"{self.login}:{self.password}".encode(self.encoding)
        return "Basic " + base64.b64encode(raw).decode("ascii")

    def __repr__(self) -> str:
        """Without the password: credentials end up in logs and tracebacks through reprs."""
        return f"BasicAuth(login={self.login!r}, password='<redacted>', encoding={self.encoding!r})"
