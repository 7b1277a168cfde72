"""Binding calls that answer later (PostgreSQL KV, queue producers): coroutines on an asyncio loop
in a thread of its own, as egress does for fetch.

`submit(key, coro, timeout_s)` runs it there; `drain()` returns what finished as (key, ok, value)
and `fileno()` is readable while something is waiting to be drained, so a shard polls it beside
its sockets. Isolates are only ever touched by the caller's thread.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import os
import threading
from collections.abc import Coroutine
from typing import Any

from shardrun.bindings.errors import BindingError, info

log = logging.getLogger("shardrun.bindings")


class AsyncRunner:
    def __init__(self) -> None:
        self._r, self._w = os.pipe()
        os.set_blocking(self._r, False)
        self._done: collections.deque[tuple[Any, bool, Any]] = collections.deque()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self.closers: list[Any] = []  # async callables run on close (pools)

    def fileno(self) -> int:
        return self._r

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            loop = asyncio.new_event_loop()
            self._thread = threading.Thread(target=loop.run_forever, name="shardrun-bindings", daemon=True)
            self._thread.start()
            self._loop = loop
        return self._loop

    def submit(self, key: Any, coro: Coroutine[Any, Any, Any], timeout_s: float) -> None:
        async def run() -> tuple[bool, Any]:
            try:
                return True, await asyncio.wait_for(coro, max(timeout_s, 0.001))
            except BindingError as exc:
                return False, exc.info()
            except TimeoutError:
                return False, info(
                    "E_BINDING_UNAVAILABLE", f"the store did not answer within {timeout_s * 1000:.0f} ms"
                )
            except Exception as exc:  # the store failed: this call fails, not the loop
                log.warning("binding store call failed: %s: %s", type(exc).__name__, exc)
                return False, info("E_BINDING_UNAVAILABLE", f"the store failed: {type(exc).__name__}: {str(exc)[:200]}")

        def finished(f: Any) -> None:
            self._done.append((key, *f.result()))
            os.write(self._w, b"x")

        asyncio.run_coroutine_threadsafe(run(), self.loop).add_done_callback(finished)

    def drain(self) -> list[tuple[Any, bool, Any]]:
        try:
            while os.read(self._r, 4096):
                pass
        except BlockingIOError:
            pass
        out = []
        while self._done:
            out.append(self._done.popleft())
        return out

    def close(self) -> None:
        if self._loop is not None:
            loop = self._loop

            async def shut() -> None:
                for c in self.closers:
                    try:
                        await c()
                    except Exception as exc:  # closing: nothing left to report to
                        log.debug("closing a binding store: %s", exc)

            try:
                asyncio.run_coroutine_threadsafe(shut(), loop).result(5)
            except Exception as exc:
                log.debug("closing the binding stores: %s", exc)
            loop.call_soon_threadsafe(loop.stop)
            if self._thread is not None:
                self._thread.join(5)
            if not loop.is_running():
                loop.close()
            self._loop = None
        os.close(self._r)
        os.close(self._w)
