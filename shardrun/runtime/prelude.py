"""The Web API prelude: the built JS chunks in shardrun/js/ (from js/build.mjs).

`core` is run in every fresh isolate. The other chunks are handed to it as one function
that loads a chunk by its index (in LAZY_CHUNKS order), called by JS on the first read of
one of the chunk's globals, so a fresh isolate pays only for what its worker uses. Each
chunk is compiled to bytecode once per process (bytecode() below; the engine build is in
its header) and loaded from it, without its source text and debug information: the
runtime never shows a prelude frame (core.js prepareStack), and prelude functions print
as native code, as built-ins do.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import orjson

from shardrun.engine.adapter import compile_script

# chunk -> the globals whose first read evaluates it (order matters: it is the
# order of the source arguments passed to core).
LAZY_CHUNKS: dict[str, tuple[str, ...]] = {
    "fetch_api": ("Headers", "Request", "Response", "Blob", "File", "fetch"),
    "encoding": ("TextEncoder", "TextDecoder"),
    "events": ("Event", "CustomEvent", "EventTarget", "AbortController", "AbortSignal"),
    "crypto": ("crypto",),
    "url": ("URL", "URLSearchParams"),
    "structured_clone": ("structuredClone",),
    "subtle": ("SubtleCrypto", "CryptoKey"),
    "streams": (
        "ReadableStream",
        "ReadableStreamDefaultReader",
        "ReadableStreamBYOBReader",
        "ReadableStreamDefaultController",
        "ReadableByteStreamController",
        "ReadableStreamBYOBRequest",
        "WritableStream",
        "WritableStreamDefaultWriter",
        "WritableStreamDefaultController",
        "TransformStream",
        "TransformStreamDefaultController",
        "ByteLengthQueuingStrategy",
        "CountQueuingStrategy",
        "TextEncoderStream",
        "TextDecoderStream",
    ),
    "forms": ("FormData",),
    "navigator": ("navigator", "self", "scheduler"),
    "bindings": (),  # no global: core loads it at boot for a worker with env bindings (shardrun/bindings)
    "intl": ("Intl",),
    "stream_out": (),  # no global: core loads it when a handler first answers with a streamed body
    "compression": ("CompressionStream", "DecompressionStream"),
    "urlpattern": ("URLPattern",),
}


@cache
def _chunk(name: str) -> tuple[str, str]:
    text = resources.files("shardrun.runtime").joinpath("js", f"{name}.js").read_text("ascii")
    header, source = text.split("\n", 1)
    return header, source


def chunk_source(name: str) -> str:
    """The built source of one chunk, without its header line."""
    return _chunk(name)[1]


def chunk_header(name: str) -> str:
    """The header line of a built chunk (names the sha256 of its inputs)."""
    return _chunk(name)[0]


@cache
def lazy_spec() -> str:
    """JSON naming each lazy chunk and its globals, in argument order."""
    return orjson.dumps([[name, list(globs)] for name, globs in LAZY_CHUNKS.items()]).decode()


@cache
def lazy_sources() -> tuple[str, ...]:
    """The lazy chunks' sources, in the order of lazy_spec()."""
    return tuple(chunk_source(name) for name in LAZY_CHUNKS)


@cache
def bytecode(name: str) -> bytes:
    """The chunk compiled once per process (and engine build), for Isolate.load()."""
    return compile_script(chunk_source(name), f"shardrun:{name}", strip=True)


@cache
def lazy_bytecode() -> tuple[bytes, ...]:
    """The lazy chunks' bytecode, in the order of lazy_spec() (for Isolate.chunk_loader())."""
    return tuple(bytecode(name) for name in LAZY_CHUNKS)
