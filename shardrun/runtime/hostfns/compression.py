"""CompressionStream / DecompressionStream (gzip, deflate, deflate-raw) on the host's zlib.

Each stream holds one zlib (de)compressor as a host handle (HostState.put), opened by
`compression.open`, fed by `compression.push`, finished by `compression.finish` (which drops it);
`compression.close` drops it early (a cancelled stream). A push returns at most MAX_PIECE bytes
of output; a decompressor that has more (a small input that expands a lot) says so and gives
the rest piece by piece through `compression.more`, so the host never holds more than one piece
of a decompression bomb: what JS keeps of the output counts against the isolate's heap.

Errors are returned, not raised: [None, message] for corrupt input, bytes after the end of the
compressed data, or input that ends before it (JS throws TypeError, as the Compression standard
says).
"""

from __future__ import annotations

import zlib
from typing import Any

from shardrun.runtime.hostcall import HostCallError, HostFn, HostState

MAX_PIECE = 1 << 20  # output bytes per call
WBITS = {"gzip": 31, "deflate": 15, "deflate-raw": -15}


class _Stream:
    __slots__ = ("decompress", "obj")

    def __init__(self, fmt: str, decompress: bool) -> None:
        self.decompress = decompress
        self.obj: Any = zlib.decompressobj(WBITS[fmt]) if decompress else zlib.compressobj(wbits=WBITS[fmt])


def _data(data: Any) -> bytes:
    if not isinstance(data, bytes):
        raise HostCallError("compression: a chunk must be bytes")
    return data


def open_stream(state: HostState, fmt: Any, decompress: Any) -> int:
    """A handle to a new compressor (decompress false) or decompressor for gzip/deflate/deflate-raw."""
    if type(fmt) is not str or fmt not in WBITS:
        raise HostCallError(f"compression.open: unsupported format {fmt!r}")
    return state.put(_Stream(fmt, bool(decompress)))


def _inflate(state: HostState, handle: int, s: _Stream, data: bytes) -> list[Any]:
    d = s.obj
    try:
        out = d.decompress(data, MAX_PIECE)
    except zlib.error as e:
        state.drop(handle)
        return [None, f"the compressed data is corrupt ({e})"]
    if d.eof and d.unused_data:
        state.drop(handle)
        return [None, "there is data after the end of the compressed data"]
    return [out, bool(d.unconsumed_tail)]


def push(state: HostState, handle: Any, data: Any) -> list[Any]:
    """Feed a chunk: [output, more] (more: call `more` for the rest), or [None, error]."""
    s: _Stream = state.get(handle, _Stream)
    data = _data(data)
    if not s.decompress:
        return [s.obj.compress(data), False]
    if s.obj.eof and data:
        state.drop(handle)
        return [None, "there is data after the end of the compressed data"]
    return _inflate(state, handle, s, data)


def more(state: HostState, handle: Any) -> list[Any]:
    """The next piece of a decompressor's output for the input it was given: [output, more]."""
    s: _Stream = state.get(handle, _Stream)
    if not s.decompress:
        raise HostCallError("compression.more: not a decompressor")
    return _inflate(state, handle, s, s.obj.unconsumed_tail)


def finish(state: HostState, handle: Any) -> list[Any]:
    """The end of the input: [the last output, False], or [None, error]; the handle is dropped."""
    s: _Stream = state.get(handle, _Stream)
    state.drop(handle)
    if not s.decompress:
        return [s.obj.flush(), False]
    if s.obj.unconsumed_tail:
        raise HostCallError("compression.finish: the decompressor still has output (call more first)")
    if not s.obj.eof:
        return [None, "the compressed data ends before its end"]
    return [b"", False]


def close(state: HostState, handle: Any) -> None:
    """Drop a stream's handle (cancelled, errored or collected)."""
    state.drop(handle)


FUNCS: dict[str, HostFn] = {
    "compression.open": open_stream,
    "compression.push": push,
    "compression.more": more,
    "compression.finish": finish,
    "compression.close": close,
}
