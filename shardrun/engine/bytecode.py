"""The worker-module bytecode cache: each module compiled once per (engine build, source hash).

A process (a shard, the CLI) keeps the bytecode of the modules it loaded, least recently
used first out, within a count and a byte bound. Only bytecode an isolate of this process
compiled is ever in it. A hit is checked before it is handed out (the header the extension
wrote: engine build, length, sha256; the extension checks it again when it loads it): an
entry that fails is logged, dropped and compiled again, never loaded.
"""

from __future__ import annotations

import hashlib
import logging
from collections import OrderedDict

from shardrun.engine.adapter import ENGINE_BUILD, BadBytecode, Isolate, check_bytecode

log = logging.getLogger("shardrun.engine")


class ModuleCache:
    """Bounded LRU of module bytecode keyed by (engine build, sha256 of the source, name)."""

    def __init__(self, entries: int = 256, max_bytes: int = 32 << 20) -> None:
        self.entries = entries
        self.max_bytes = max_bytes
        self._codes: OrderedDict[tuple[str, bytes, str], bytes] = OrderedDict()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._codes)

    @staticmethod
    def _key(source: str, name: str) -> tuple[str, bytes, str]:
        return (ENGINE_BUILD, hashlib.sha256(source.encode("utf-8", "surrogatepass")).digest(), name)

    def get(self, iso: Isolate, source: str, name: str) -> bytes:
        """The module's bytecode, compiled by `iso` on a miss or a bad entry (a SyntaxError raises;
        nothing is kept)."""
        key = self._key(source, name)
        code = self._codes.get(key)
        if code is not None:
            try:
                check_bytecode(code)
            except BadBytecode as exc:
                log.warning("cached bytecode of module %r is unusable (%s): compiling it again", name, exc)
                self.forget(source, name)
            else:
                self._codes.move_to_end(key)
                return code
        code = iso.compile(source, name, module=True)
        self._codes[key] = code
        self._bytes += len(code)
        while len(self._codes) > self.entries or (self._bytes > self.max_bytes and len(self._codes) > 1):
            self._bytes -= len(self._codes.popitem(last=False)[1])
        return code

    def resize(self, entries: int, max_bytes: int) -> None:
        """New bounds (a shard sizes its cache to the tenants its isolate cache can hold)."""
        self.entries, self.max_bytes = max(1, entries), max(1, max_bytes)
        while len(self._codes) > self.entries or (self._bytes > self.max_bytes and len(self._codes) > 1):
            self._bytes -= len(self._codes.popitem(last=False)[1])

    def forget(self, source: str, name: str) -> None:
        """Drop an entry (the next get() compiles it again)."""
        code = self._codes.pop(self._key(source, name), None)
        if code is not None:
            self._bytes -= len(code)


MODULES = ModuleCache()
