"""HTTP header values for the handshake: an ordered multi-map and the few grammars we parse."""

from __future__ import annotations

import re
from typing import Any, Iterable, Iterator, List, Mapping, Optional, Tuple, Union

__all__ = [
    "Headers",
    "HeadersLike",
    "check_header",
    "split_tokens",
    "parse_extensions",
    "ExtensionOffer",
]

# Pairs, a mapping, or websocket-client's "Name: value" strings.
HeadersLike = Union[Mapping[str, str], Iterable[Tuple[str, str]], Iterable[str], "Headers"]

# RFC 9110 token characters.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_BAD_VALUE = re.compile(r"[\x00\r\n]")
# Those, or what latin-1 (the request head's encoding) cannot carry: one search on the good path.
_UNSENDABLE = re.compile(r"[\x00\r\n]|[^\x00-\xff]")


class Headers(Mapping[str, str]):
    """Ordered, case-insensitive multi-map: repeated names are kept, in order.

    A ``Mapping`` like aiohttp's ``CIMultiDictProxy`` and `websockets`' ``Headers``:
    ``h["name"]`` and ``get`` give the first value, ``get_all`` (or ``getall``) every
    one; ``dict(h)``, ``keys()``, ``items()`` and ``in`` work as on a mapping.
    It takes pairs, a mapping, or websocket-client's ``"Name: value"`` strings.
    """

    __slots__ = ("_items",)

    def __init__(self, items: Optional[HeadersLike] = None) -> None:
        self._items: List[Tuple[str, str]] = []
        if items is not None:
            self.extend(items)

    def extend(self, items: HeadersLike) -> None:
        pairs: Iterable[Any]
        pairs = items.items() if isinstance(items, Mapping) else items
        for item in pairs:
            if isinstance(item, str):  # websocket-client's header=["Name: value", ...]
                name, sep, value = item.partition(":")
                if not sep:
                    raise _invalid(f"header {item!r} is not 'Name: value'")
                self.add(name.strip(), value.strip())
            else:
                name, value = item
                self.add(name, value)

    def add(self, name: str, value: str) -> None:
        self._items.append((name, value))

    def get(self, name: str, default: Any = None) -> Any:
        """The first value of ``name``, else ``default``."""
        key = name.lower()
        for k, v in self._items:
            if k.lower() == key:
                return v
        return default

    def get_all(self, name: str) -> List[str]:
        """Every value of ``name``, in order (an empty list if none)."""
        key = name.lower()
        return [v for k, v in self._items if k.lower() == key]

    getall = get_all  # aiohttp's (multidict's) name

    def items(self) -> List[Tuple[str, str]]:  # type: ignore[override]
        """Every (name, value) pair, repeats included, in order."""
        return list(self._items)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def __getitem__(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise KeyError(name)
        return str(value)

    def __iter__(self) -> Iterator[str]:
        return (k for k, _ in self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Headers):
            return self._items == other._items
        if isinstance(other, Mapping):
            return dict(self) == dict(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Headers({self._items!r})"


def check_header(name: str, value: str) -> None:
    """Refuse what would corrupt the request or smuggle a header (CR, LF, NUL)."""
    if not isinstance(name, str) or not isinstance(value, str):
        raise _invalid(f"header names and values must be str, got {name!r}: {value!r}")
    if not _TOKEN.fullmatch(name):
        raise _invalid(f"invalid header name {name!r}")
    if _UNSENDABLE.search(value):
        if _BAD_VALUE.search(value):
            raise _invalid(f"header {name!r} has a CR, LF or NUL in its value")
        raise _invalid(f"header {name!r} has characters outside latin-1 in its value")


def _invalid(message: str) -> Exception:
    from .errors import InvalidHeader  # errors imports this module

    return InvalidHeader(message)


def split_tokens(values: Iterable[str]) -> List[str]:
    """Comma-separated tokens of one or more header lines, lower-cased, empties dropped."""
    return [t.strip().lower() for v in values for t in v.split(",") if t.strip()]


ExtensionOffer = Tuple[str, List[Tuple[str, Optional[str]]]]


def parse_extensions(values: Iterable[str]) -> List[ExtensionOffer]:
    """Parse ``Sec-WebSocket-Extensions`` (RFC 6455 §9.1) into (name, [(param, value)]).

    Raises ValueError on anything outside the grammar.
    """
    result: List[ExtensionOffer] = []
    for line in values:
        for item in _split_outside_quotes(line, ","):
            item = item.strip()
            if not item:
                continue
            parts = _split_outside_quotes(item, ";")
            name = parts[0].strip()
            if not _TOKEN.fullmatch(name):
                raise ValueError(f"invalid extension name {name!r}")
            params: List[Tuple[str, Optional[str]]] = []
            for raw in parts[1:]:
                raw = raw.strip()
                key, eq, val = raw.partition("=")
                key = key.strip()
                if not _TOKEN.fullmatch(key):
                    raise ValueError(f"invalid extension parameter {raw!r}")
                if not eq:
                    params.append((key.lower(), None))
                    continue
                val = val.strip()
                if len(val) >= 2 and val[0] == val[-1] == '"':
                    val = val[1:-1]
                if not _TOKEN.fullmatch(val):
                    raise ValueError(f"invalid value in extension parameter {raw!r}")
                params.append((key.lower(), val))
            result.append((name.lower(), params))
    return result


def _split_outside_quotes(text: str, sep: str) -> List[str]:
    parts: List[str] = []
    current: List[str] = []
    quoted = False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        if ch == sep and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    if quoted:
        raise ValueError(f"unbalanced quotes in {text!r}")
    parts.append("".join(current))
    return parts
