"""Which zlib does permessage-deflate's work: zlib-ng when installed, else the stdlib's.

``pip install syncws[speedups]`` adds ``zlib-ng`` (its ``zlib_ng.zlib_ng`` module has
the stdlib ``zlib`` API and is 2-3x faster). The wire format is the same deflate
either way; only speed, memory and the exact compressed bytes differ. zlib-ng inflates
everything, but compresses only big messages: a connection's kept compressor is the
stdlib's, which is four times lighter (protocol/deflate.py, Deflater).

The choice is made once, at import, unless ``SYNCWS_ZLIB=zlib`` (or ``zlib-ng``) is
set; ``use_zlib_backend()`` changes it for connections opened afterwards (tests and
benchmarks compare both). A connection keeps the backend it was opened with.
"""

from __future__ import annotations

import importlib
import os
import zlib
from types import ModuleType
from typing import Dict, Tuple

__all__ = ["STDLIB", "ZLIB_NG", "available_zlib_backends", "current", "stdlib", "use_zlib_backend", "zlib_backend"]

STDLIB = "zlib"
ZLIB_NG = "zlib-ng"
_MODULES: Dict[str, str] = {STDLIB: "zlib", ZLIB_NG: "zlib_ng.zlib_ng"}
ENV_VAR = "SYNCWS_ZLIB"


def _load(name: str) -> ModuleType:
    if name not in _MODULES:
        raise ValueError(f"unknown zlib backend {name!r}; choose from {', '.join(_MODULES)}")
    try:
        return importlib.import_module(_MODULES[name])
    except ImportError:
        raise ImportError(f"zlib backend {name!r} is not installed (pip install syncws[speedups])") from None


def available_zlib_backends() -> Tuple[str, ...]:
    """The backends importable here, the stdlib's first."""
    found = []
    for name in _MODULES:
        try:
            _load(name)
        except ImportError:
            continue
        found.append(name)
    return tuple(found)


def _initial() -> Tuple[str, ModuleType]:
    forced = os.environ.get(ENV_VAR)
    if forced:
        return forced, _load(forced)
    try:
        return ZLIB_NG, _load(ZLIB_NG)
    except ImportError:
        return STDLIB, _load(STDLIB)


_name, _module = _initial()


def zlib_backend() -> str:
    """The backend new connections use: ``"zlib-ng"`` or ``"zlib"``."""
    return _name


def use_zlib_backend(name: str) -> None:
    """Make new connections use ``name`` (``"zlib"`` or ``"zlib-ng"``); open ones keep theirs.

    Raises ImportError if that backend is not installed, ValueError for an unknown name.
    """
    global _name, _module
    _module = _load(name)
    _name = name


def stdlib() -> ModuleType:
    """The standard library's ``zlib`` (what compressors kept between messages use)."""
    return zlib


def current() -> ModuleType:
    """The backend's module, with the stdlib ``zlib`` API."""
    return _module
