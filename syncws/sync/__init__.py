"""The blocking face: a background loop thread and ``SyncWebSocket``."""

from .client import connect
from .loop_thread import LoopThread, get_loop_thread
from .stream import MessageStream
from .wait import wait
from .websocket import SyncWebSocket

__all__ = ["LoopThread", "MessageStream", "SyncWebSocket", "connect", "get_loop_thread", "wait"]
