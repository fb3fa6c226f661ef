"""syncws's loggers, and a frame trace that one call turns on.

``syncws`` is the parent of all of them: ``syncws.client`` (connections,
reconnects, callback errors) and ``syncws.trace`` (one DEBUG line per
frame, silent unless enabled). Like any library, syncws installs no handler
unless you ask: ``enable_trace()`` is that request.
"""

from __future__ import annotations

import logging
import sys
import threading
from typing import Optional

from .protocol.trace import PREVIEW_BYTES, format_frame, trace_frame, trace_logger

__all__ = [
    "PREVIEW_BYTES",
    "client_logger",
    "enable_trace",
    "format_frame",
    "logger",
    "trace_frame",
    "trace_logger",
]

logger = logging.getLogger("syncws")
client_logger = logging.getLogger("syncws.client")

_FORMAT = "%(asctime)s %(threadName)s %(name)s %(message)s"

_lock = threading.Lock()
_handler: Optional[logging.Handler] = None
_saved_level: Optional[int] = None


def enable_trace(enabled: bool = True, handler: Optional[logging.Handler] = None) -> None:
    """Log every frame sent and received (websocket-client's ``enableTrace``).

    Sets ``syncws.trace`` to DEBUG and attaches ``handler`` (default: a
    stream handler on stderr). Calling it again replaces that handler rather
    than adding a second; ``enable_trace(False)`` removes it and restores the
    level the logger had before.
    """
    global _handler, _saved_level
    with _lock:
        if _handler is not None:
            trace_logger.removeHandler(_handler)
            _handler = None
        if not enabled:
            if _saved_level is not None:
                trace_logger.setLevel(_saved_level)
                _saved_level = None
            return
        if _saved_level is None:
            _saved_level = trace_logger.level
        if handler is None:
            handler = logging.StreamHandler(sys.stderr)
            handler.setFormatter(logging.Formatter(_FORMAT))
        trace_logger.addHandler(handler)
        trace_logger.setLevel(logging.DEBUG)
        _handler = handler


