"""The engine adapter: the only module that imports `quickjs` (the quickjs-ng binding).

Everything above it speaks of isolates, functions and engine errors. An `Isolate` is one
QuickJS runtime with one context. The binding crashes the process if two threads are
inside one context at once, so every use goes through `with isolate:`, which fails at
once with `E_ISOLATE_BUSY` instead of letting a second thread in. Handing an isolate from
one thread to another between uses is allowed.
"""

from __future__ import annotations

import re
import threading
import weakref
from time import perf_counter
from typing import Any

# The binding's C module. Its Python package (`import quickjs`) also starts a thread pool
# at import time for its `Function` helper, which shardrun does not use and which would
# make every process that imports it unsafe to fork (procs.py).
import _quickjs as quickjs

from shardrun.errors import RuntimeFault

ENGINE_NAME = "quickjs-ng"

_FIRST_LINE = re.compile(r"^(?P<name>[A-Za-z_$][\w$]*)?(?::\s?)?(?P<message>.*)$")


class EngineError(Exception):
    """An exception that left the engine: a JS throw or a limit the engine enforced."""

    kind = "throw"

    def __init__(self, name: str, message: str, stack: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message
        self.stack = stack


class JSThrow(EngineError):
    """JS threw a value that nobody caught (a SyntaxError while compiling included)."""


class Interrupted(EngineError):
    """The engine's time limit interrupted running JS."""

    kind = "interrupted"


class BudgetExceeded(EngineError):
    """The host's CPU budget check stopped a turn between promise jobs."""

    kind = "budget"


class OutOfMemory(EngineError):
    """The isolate's memory limit was hit."""

    kind = "oom"


class StackOverflow(EngineError):
    """The isolate's stack limit was hit."""

    kind = "stack"


def _translate(exc: BaseException) -> EngineError:
    """Turn a binding exception into an EngineError subclass."""
    text = str(exc)
    if text in ("", "null"):
        # quickjs-ng reports some allocation failures with no exception object.
        return OutOfMemory("InternalError", "out of memory", "")
    first, _, rest = text.partition("\n")
    m = _FIRST_LINE.match(first)
    name = (m and m.group("name")) or "Error"
    message = m.group("message") if m else first
    stack = rest
    if isinstance(exc, quickjs.StackOverflow) or (
        name == "RangeError" and message.startswith("Maximum call stack size")
    ):
        return StackOverflow(name, message, stack)
    if name == "InternalError" and message == "interrupted":
        return Interrupted(name, message, stack)
    if name == "InternalError" and message == "out of memory":
        return OutOfMemory(name, message, stack)
    return JSThrow(name, message, stack)


class JSHandle:
    """A JS value held by the host (callable when it is a function); calls translate engine exceptions."""

    __slots__ = ("_fn",)

    def __init__(self, fn: Any) -> None:
        self._fn = fn

    def __call__(self, *args: str | int | float | bool | None) -> Any:
        try:
            return self._fn(*args)
        except (quickjs.JSException, quickjs.StackOverflow) as exc:
            raise _translate(exc) from None


_LIVE: weakref.WeakSet[Isolate] = weakref.WeakSet()


def live_isolates() -> int:
    """How many isolates exist in this process (the fork rules want none in a forking parent)."""
    return sum(1 for i in _LIVE if not i.closed)


class Isolate:
    """One QuickJS runtime and context, with its memory and stack limits."""

    def __init__(self, *, memory_limit: int, stack_limit: int) -> None:
        self._ctx = quickjs.Context()
        _LIVE.add(self)
        self._ctx.set_memory_limit(memory_limit)
        self._ctx.set_max_stack_size(stack_limit)
        self._lock = threading.Lock()
        self.closed = False

    def __enter__(self) -> Isolate:
        """`with iso:` holds the isolate for one thread; a second one gets E_ISOLATE_BUSY."""
        if not self._lock.acquire(blocking=False):
            raise RuntimeFault("this isolate is in use by another thread", code="E_ISOLATE_BUSY")
        if self.closed:
            self._lock.release()
            raise RuntimeFault("this isolate was discarded", code="E_ISOLATE_DISCARDED")
        return self

    def __exit__(self, *exc: object) -> None:
        self._lock.release()

    def eval(self, source: str) -> Any:
        """Evaluate a classic script; JS functions come back as JSHandle."""
        try:
            value = self._ctx.eval(source)
        except (quickjs.JSException, quickjs.StackOverflow) as exc:
            raise _translate(exc) from None
        return JSHandle(value) if isinstance(value, quickjs.Object) else value

    def module(self, source: str) -> JSHandle:
        """Evaluate an ES module; returns its evaluation promise as an opaque handle."""
        try:
            return JSHandle(self._ctx.module(source))
        except (quickjs.JSException, quickjs.StackOverflow) as exc:
            raise _translate(exc) from None

    def unwrap(self, handle: JSHandle) -> Any:
        """The engine object behind a handle, to pass back into JS as an argument."""
        return handle._fn

    def run_job(self) -> bool:
        """Run one pending promise job; False when there was none."""
        try:
            return bool(self._ctx.execute_pending_job())
        except (quickjs.JSException, quickjs.StackOverflow) as exc:
            raise _translate(exc) from None

    def turn(
        self, fn: JSHandle, args: tuple[Any, ...], budget: float, check_every: int = 256
    ) -> tuple[Any, int, float]:
        """One host turn: call fn, then run promise jobs until none is left.

        The engine's tripwire is armed to `budget` CPU seconds; the time used is also
        checked every `check_every` jobs, which catches `await` loops the tripwire never
        sees (it restarts at every job). Returns (fn's value, jobs run, seconds used);
        raises BudgetExceeded or another EngineError. The caller holds the isolate.

        A turn never waits on I/O, so its duration on the monotonic clock is its CPU time
        unless the OS takes the core away mid-turn; reading the thread's CPU clock instead
        costs a system call per read, which under load cost more than the JS it measured
        (bench/RESULTS.md). The watchdog still reads the real thread CPU clock.
        """
        ctx = self._ctx
        t0 = perf_counter()
        try:
            ctx.set_time_limit(budget if budget > 0.001 else 0.001)
            value = fn._fn(*args)
            jobs = 0
            while ctx.execute_pending_job():
                jobs += 1
                if jobs % check_every == 0 and perf_counter() - t0 > budget:
                    raise BudgetExceeded("InternalError", "CPU budget exceeded", "")
        except (quickjs.JSException, quickjs.StackOverflow) as exc:
            raise _translate(exc) from None
        return value, jobs, perf_counter() - t0

    def set_memory_limit(self, nbytes: int) -> None:
        """Cap the heap."""
        self._ctx.set_memory_limit(nbytes)

    def set_stack_limit(self, nbytes: int) -> None:
        """Cap the JS stack."""
        self._ctx.set_max_stack_size(nbytes)

    def set_time_limit(self, seconds: float) -> None:
        """Arm the engine's interrupt tripwire (process CPU time, advisory; see facts.md)."""
        self._ctx.set_time_limit(seconds)

    def memory(self) -> dict[str, int]:
        """The engine's memory statistics."""
        return dict(self._ctx.memory())

    def heap_bytes(self) -> int:
        """Bytes the isolate's heap currently uses."""
        return int(self._ctx.memory()["memory_used_size"])

    def close(self) -> None:
        """Mark the isolate discarded; the engine frees it when the last reference goes."""
        self.closed = True
