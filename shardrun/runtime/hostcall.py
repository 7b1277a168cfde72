"""Synchronous host functions: Web APIs that are synchronous by spec, run on the host inside a JS call.

The asynchronous host operations (hostops.py) go through the outbox and settle a promise on a
later turn. An API that must answer at once (`crypto.getRandomValues`, `TextDecoder` for a
legacy encoding, `Intl`, `URL`...) calls `internals.host(name, ...args)` instead: one JS function per
isolate, made in `prepare()`, that runs the named Python function while JS waits. It runs on
the turn's thread under the turn's CPU deadline (the thread's CPU clock counts the host's
work too), and bytes cross as Uint8Array <-> bytes, without base64.

Names are `area.function`. Each area is a module that defines `FUNCS: dict[str, HostFn]`,
imported on the first call of one of its functions, so an isolate (and the CLI) pays for ICU
or zlib only when its worker uses them. A host function takes the isolate's `HostState`
first and then JS's arguments; it validates every argument (they are tenant input) and
raises `HostCallError` with a stable code for what it refuses. Any other exception reaches JS
as an Error with code `E_INTERNAL` and no detail (the extension keeps it for the logs).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

HostFn = Callable[..., Any]

# area -> the module that defines its FUNCS
AREAS: dict[str, str] = {
    "random": "shardrun.runtime.hostfns.random",
    "intl": "shardrun.runtime.hostfns.intl",
    "encoding": "shardrun.runtime.hostfns.encoding",
    "compression": "shardrun.runtime.hostfns.compression",
    "url": "shardrun.runtime.hostfns.url",
}

MAX_HANDLES = 1024  # live host objects (a decompressor, a formatter...) per isolate


class HostCallError(Exception):
    """A host function refused its arguments: reaches JS as an Error with this code and message."""

    def __init__(self, message: str, code: str = "E_HOST_ARGUMENT") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class HostState:
    """What host functions keep for one isolate: handles to host objects, dropped with it.

    An object put with `shared=True` (one that never changes, like a cached formatter) gets one handle
    however often it is put; each put is a reference, and drop() removes the handle with the last one.
    """

    __slots__ = ("_handles", "_next", "_refs", "_shared")

    def __init__(self) -> None:
        self._handles: dict[int, Any] = {}
        self._next = 0
        self._shared: dict[int, int] = {}  # id(obj) -> handle, for shared objects (kept alive by _handles)
        self._refs: dict[int, int] = {}  # handle of a shared object -> references

    def put(self, obj: Any, shared: bool = False) -> int:
        """Keep a host object for JS; its handle (an int JS passes back)."""
        if shared:
            h = self._shared.get(id(obj))
            if h is not None:
                self._refs[h] += 1
                return h
        if len(self._handles) >= MAX_HANDLES:
            raise HostCallError(f"more than {MAX_HANDLES} host objects are open in this isolate", "E_HOST_LIMIT")
        self._next += 1
        self._handles[self._next] = obj
        if shared:
            self._shared[id(obj)] = self._next
            self._refs[self._next] = 1
        return self._next

    def get(self, handle: Any, kind: type | None = None) -> Any:
        """The object behind a handle JS passed (of `kind`, if given); a bad handle is E_HOST_ARGUMENT."""
        obj = self._handles.get(handle) if type(handle) is int else None
        if obj is None or (kind is not None and not isinstance(obj, kind)):
            raise HostCallError("not a live host handle")
        return obj

    def drop(self, handle: Any) -> None:
        """Forget a handle (JS is done with it); an unknown one is ignored."""
        if type(handle) is not int:
            return
        refs = self._refs.get(handle)
        if refs is not None:
            if refs > 1:
                self._refs[handle] = refs - 1
                return
            del self._refs[handle]
            self._shared.pop(id(self._handles.get(handle)), None)
        self._handles.pop(handle, None)

    def __len__(self) -> int:
        return len(self._handles)


_resolved: dict[str, HostFn] = {}


def preload(*areas: str) -> None:
    """Import these areas now (a server process at start), so no request pays for the import."""
    for area in areas:
        importlib.import_module(AREAS[area])


def resolve(name: str) -> HostFn:
    """The host function called `name`; E_HOST_UNKNOWN if there is none."""
    fn = _resolved.get(name)
    if fn is not None:
        return fn
    area, _, _ = name.partition(".") if isinstance(name, str) else ("", "", "")
    module = AREAS.get(area)
    funcs: dict[str, HostFn] = importlib.import_module(module).FUNCS if module else {}
    fn = funcs.get(name)
    if fn is None:
        raise HostCallError(f"no host function {name!r}", "E_HOST_UNKNOWN")
    _resolved[name] = fn
    return fn


def bind(state: HostState) -> Callable[..., Any]:
    """The one function JS gets as `internals.host(name, ...args)` for an isolate with `state`."""

    def call(name: Any, *args: Any) -> Any:
        return resolve(name)(state, *args)

    return call
