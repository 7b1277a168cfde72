"""The engine adapter: the only module that imports `shardrun.engine._quickjs` (native/).

Everything above it speaks of isolates, functions, bytecode and engine errors. An `Isolate`
is one QuickJS runtime with one context. Every use goes through `with isolate:`, which fails
at once with `E_ISOLATE_BUSY` when another thread is inside (the extension refuses such a
thread too; this guard answers before any engine call). Handing an isolate from one thread
to another between uses is allowed.

A turn arms a CPU deadline on the thread's own CPU clock, calls into JS and runs every
promise job that follows in C, then disarms: the deadline spans the whole turn, so an
`await` loop is stopped like a plain loop. Bytecode is made only by `compile()` and loaded
only by `load()` or from a module loader (see set_imports()); the extension checks the
header it wrote (engine build, length, sha256) before the engine reads a byte of it.

The extension is imported here, at import time: this module is imported only where
isolates are made (a shard or the CLI), never in a forking parent (server/procs.py).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Any

from shardrun.engine import _quickjs as _q
from shardrun.errors import RuntimeFault

ENGINE_NAME = "quickjs-ng"
ENGINE_VERSION = _q.ENGINE_VERSION
ENGINE_BUILD = _q.ENGINE_BUILD  # bytecode is valid only within one build


class EngineError(Exception):
    """An exception that left the engine: a JS throw or a limit the engine enforced."""

    kind = "throw"

    def __init__(self, name: str, message: str, stack: str, code: str | None = None) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message
        self.stack = stack
        self.code = code


class JSThrow(EngineError):
    """JS threw a value that nobody caught (a SyntaxError while compiling included)."""


class Interrupted(EngineError):
    """interrupt() (the watchdog) stopped running JS."""

    kind = "interrupted"


class BudgetExceeded(EngineError):
    """The turn's CPU deadline passed."""

    kind = "budget"


class OutOfMemory(EngineError):
    """The isolate's memory limit was hit."""

    kind = "oom"


class StackOverflow(EngineError):
    """The isolate's stack limit was hit."""

    kind = "stack"


class BadBytecode(Exception):
    """Bytecode this engine build did not make, or corrupt: compile the source again."""


_KINDS: dict[type[BaseException], type[EngineError]] = {
    _q.BudgetExceeded: BudgetExceeded,
    _q.Interrupted: Interrupted,
    _q.OutOfMemory: OutOfMemory,
    _q.StackOverflow: StackOverflow,
}


def _translate(exc: BaseException) -> Exception:
    """An extension exception as the adapter's own."""
    if isinstance(exc, _q.EngineError):
        cls = _KINDS.get(type(exc), JSThrow)
        return cls(exc.name or "Error", exc.message, exc.stack, exc.code if cls is JSThrow else None)
    if isinstance(exc, _q.IsolateBusy):
        return RuntimeFault("this isolate is in use by another thread", code="E_ISOLATE_BUSY")
    if isinstance(exc, _q.IsolateClosed):
        return RuntimeFault("this isolate was discarded", code="E_ISOLATE_DISCARDED")
    return BadBytecode(str(exc))


_ENGINE_EXCEPTIONS = (_q.EngineError, _q.IsolateBusy, _q.IsolateClosed, _q.BytecodeError)


def _wrap(value: Any) -> Any:
    return JSHandle(value) if isinstance(value, _q.Value) else value


class JSHandle:
    """A JS value held by the host (callable when it is a function); calls translate engine exceptions."""

    __slots__ = ("_fn",)

    def __init__(self, fn: _q.Value) -> None:
        self._fn = fn

    def __call__(self, *args: Any) -> Any:
        try:
            return _wrap(self._fn(*args))
        except _ENGINE_EXCEPTIONS as exc:
            raise _translate(exc) from None


_LIVE: weakref.WeakSet[Isolate] = weakref.WeakSet()


def live_isolates() -> int:
    """How many isolates exist in this process (the fork rules want none in a forking parent)."""
    return sum(1 for i in _LIVE if not i.closed)


class Isolate:
    """One QuickJS runtime and context, with its memory and stack limits."""

    def __init__(self, *, memory_limit: int, stack_limit: int) -> None:
        self._iso = _q.Isolate(memory_limit, stack_limit)
        _LIVE.add(self)
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

    # ---- running code --------------------------------------------------------
    def eval(self, source: str, name: str = "<input>") -> Any:
        """Evaluate a classic script; JS objects and functions come back as JSHandle."""
        try:
            return _wrap(self._iso.eval(source, name))
        except _ENGINE_EXCEPTIONS as exc:
            raise _translate(exc) from None

    def module(self, source: str, name: str = "<input>") -> JSHandle:
        """Evaluate an ES module; returns its evaluation promise as an opaque handle."""
        try:
            return JSHandle(self._iso.eval_module(source, name))
        except _ENGINE_EXCEPTIONS as exc:
            raise _translate(exc) from None

    def compile(self, source: str, name: str, *, module: bool = False, strip: bool = False) -> bytes:
        """Bytecode of a script or module for load(); a SyntaxError raises JSThrow. `strip`
        leaves out the source text and the debug information (file names, line numbers): for
        code whose frames are never shown, and whose functions print as native code."""
        try:
            return self._iso.compile(source, name, module=module, strip_source=strip, strip_debug=strip)
        except _ENGINE_EXCEPTIONS as exc:
            raise _translate(exc) from None

    def load(self, bytecode: bytes) -> Any:
        """Run bytecode compile() made: a script's completion value, or a module's evaluation
        promise. Raises BadBytecode (nothing ran) when the header does not check out."""
        try:
            return _wrap(self._iso.load(bytecode))
        except _ENGINE_EXCEPTIONS as exc:
            raise _translate(exc) from None

    def chunk_loader(self, name: str, codes: tuple[bytes, ...]) -> JSHandle:
        """A JS function `name(i)` that runs the script bytecode codes[i] (from compile()) and
        returns its completion value; in C, no Python call. Once per isolate; the header of
        every code is checked here (BadBytecode)."""
        try:
            return JSHandle(self._iso.chunk_loader(name, codes))
        except _ENGINE_EXCEPTIONS as exc:
            raise _translate(exc) from None

    def host_function(self, name: str, fn: Any, length: int = 0) -> JSHandle:
        """A JS function that calls the Python callable `fn` with JS's arguments (converted:
        bytes <-> Uint8Array, str, numbers, None) and returns its value; it works while a
        deadline is armed. An exception with an `E_...` `code` reaches JS as an Error with that
        code and its message; any other as E_INTERNAL without detail."""
        return JSHandle(self._iso.function(name, fn, length))

    def set_imports(
        self,
        names: tuple[str, ...],
        loader: Callable[[str, str], str | bytes | None] | None = None,
        *,
        allow_cycles: bool = False,
    ) -> None:
        """The bare module names an import may name (modules already evaluated) and the loader
        of relative imports: loader(name, importer) gets the specifier normalised against the
        importer's path and returns a module's source, its compile() bytecode, or None (no such
        module); an exception with an `E_...` code fails the import with that code and message.
        The extension refuses absolute, URL and bare specifiers and paths above the root with
        E_IMPORT; import cycles too unless allow_cycles."""
        self._iso.set_module_loader(loader, bare=names, allow_cycles=allow_cycles)

    def unwrap(self, handle: JSHandle) -> Any:
        """The engine value behind a handle, to pass back into JS as an argument."""
        return handle._fn

    def run_job(self) -> bool:
        """Run one pending promise job; False when there was none."""
        return self.run_jobs(1) > 0

    def run_jobs(self, max_jobs: int = -1) -> int:
        """Run pending promise jobs (in C) until none is left or max_jobs ran; how many ran."""
        try:
            return self._iso.run_jobs(max_jobs)
        except _ENGINE_EXCEPTIONS as exc:
            raise _translate(exc) from None

    def turn(self, fn: JSHandle, args: tuple[Any, ...], budget: float) -> tuple[Any, int, float]:
        """One host turn: call fn, then run promise jobs until none is left, all under one CPU
        deadline of `budget` seconds on this thread's CPU clock.

        Returns (fn's value, jobs run, CPU seconds used); raises BudgetExceeded, Interrupted
        or another EngineError. The caller holds the isolate.
        """
        iso = self._iso
        iso.arm(budget if budget > 0 else 0.0)
        try:
            value = fn._fn(*args)
            jobs = iso.run_jobs()
        except _ENGINE_EXCEPTIONS as exc:
            iso.disarm()
            raise _translate(exc) from None
        return value, jobs, iso.disarm()

    # ---- limits --------------------------------------------------------------
    def arm(self, seconds: float) -> None:
        """Arm a CPU deadline (this thread's CPU clock) for everything JS runs until disarm()."""
        self._iso.arm(seconds)

    def disarm(self) -> float:
        """Drop the deadline; the CPU seconds used since arm()."""
        return self._iso.disarm()

    def interrupt(self) -> None:
        """Stop running JS from any thread (the watchdog); it stays stopped until the next arm()."""
        self._iso.interrupt()

    def set_memory_limit(self, nbytes: int) -> None:
        """Cap the heap."""
        self._iso.set_memory_limit(nbytes)

    def set_stack_limit(self, nbytes: int) -> None:
        """Cap the JS stack."""
        self._iso.set_stack_limit(nbytes)

    def set_gc_threshold(self, nbytes: int) -> None:
        """Run the next cycle collection when the heap reaches `nbytes` (the engine then sets
        the following one at 1.5x the heap that survived it)."""
        self._iso.set_gc_threshold(nbytes)

    # ---- state ---------------------------------------------------------------
    def take_rejections(self) -> list[dict[str, Any]]:
        """Unhandled rejections ({id, event: "unhandled", reason, stack}) and later handlings
        ({id, event: "handled"}) since the last call."""
        return self._iso.take_rejections()

    @property
    def rejections_dropped(self) -> int:
        """Unhandled rejections the engine counted but did not record (over its cap of those not taken yet)."""
        return self._iso.rejections_dropped

    def memory(self) -> dict[str, int]:
        """The engine's memory statistics."""
        return self._iso.memory()

    def heap_bytes(self) -> int:
        """Bytes the isolate's heap currently uses."""
        return int(self._iso.memory()["memory_used_size"])

    def close(self) -> None:
        """Discard the isolate and free the engine now (later, if a thread is still inside)."""
        self.closed = True
        try:
            self._iso.close()
        except _q.IsolateBusy:
            pass  # freed when the last reference goes


def check_bytecode(bytecode: bytes) -> None:
    """Raise BadBytecode unless load() would accept the header (engine build, length, sha256)."""
    try:
        _q.check_bytecode(bytecode)
    except _q.BytecodeError as exc:
        raise BadBytecode(str(exc)) from None


def compile_script(source: str, name: str, *, module: bool = False, strip: bool = False) -> bytes:
    """Bytecode of a script or module, compiled in a throwaway isolate (no isolate stays behind)."""
    iso = Isolate(memory_limit=0, stack_limit=0)
    try:
        with iso:
            return iso.compile(source, name, module=module, strip=strip)
    finally:
        iso.close()
