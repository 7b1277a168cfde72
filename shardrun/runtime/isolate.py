"""A worker in an isolate, driven by the host: requests in, results out, limits held.

`WorkerIsolate` owns one `engine.Isolate` with the prelude and one worker script. Many
requests may be in flight in it at once. The host drives it in turns: a turn delivers one
event to JS (a new request, due timers, settled host operations), runs the promise jobs
that follow and drains the outbox. Every turn is charged to one request, so the CPU
budget is summed over all of a request's turns. Limits, from cheap to drastic:

1. the JS side caps output, logs, timers and host-operation sizes;
2. each turn arms a CPU deadline (the thread's CPU clock) at the request's remaining
   budget; it spans the call and every promise job after it, so plain loops and `await`
   loops alike stop at the budget, and the turn's CPU time is charged to the request;
3. the watchdog (see watchdog.py) notices a turn that overran its budget in code that
   does not reach the engine's interrupt poll: it interrupts the isolate first and, if
   that does not stop it within the grace, escalates (in a shard, the process is killed
   and replaced).

An unhandled promise rejection is logged with its request at level error; it fails the
request with E_UNHANDLED_REJECTION if it has not responded yet.

An isolate whose request hit a limit, or threw, is retired: it takes no new requests,
lets the others finish and is then discarded. One whose turn was interrupted is
discarded at once; its other requests fail with E_ISOLATE_DISCARDED.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from shardrun.engine.adapter import (
    BudgetExceeded,
    EngineError,
    Interrupted,
    Isolate,
    JSHandle,
    OutOfMemory,
    StackOverflow,
)
from shardrun.engine.bytecode import MODULES
from shardrun.engine.limits import Limits
from shardrun.engine.watchdog import Watchdog
from shardrun.errors import ErrorInfo, RuntimeFault, ScriptError
from shardrun.runtime import hostcall, prelude
from shardrun.runtime.calls import Call, HostOp, LogLine, Result, dispatch_args
from shardrun.runtime.modules import ENTRY_NAME, module_loader
from shardrun.runtime.outbox import Outbox
from shardrun.runtime.script import Script

BOOTSTRAP = "import * as ns from '<input>'; globalThis.__shardrun_ns = ns;"
IMPORT_CODES = ("E_IMPORT", "E_SCRIPT_ENCODING")
MAX_REJECTION_LINES = 10  # unhandled-rejection console lines kept per request
# The first cycle collection waits for this much heap (the engine's default is 256 KB, which
# the prelude alone passes: a cold start then spends a collection on objects that all live).
FIRST_GC_BYTES = 1 << 20

HostOps = Callable[["WorkerIsolate", HostOp], None]


def deny_host_ops(worker: WorkerIsolate, op: HostOp) -> None:
    """The default host: crypto.subtle runs (it needs no policy); fetch() and the rest are refused."""
    from shardrun.runtime import hostops  # imports this module's types

    hostops.host_ops()(worker, op)


@dataclass(frozen=True)
class Prepared:
    """An isolate with the prelude evaluated and no worker in it yet (see prepare())."""

    iso: Isolate
    api: tuple[JSHandle, ...]


def prepare(limits: Limits | None = None) -> Prepared:
    """Create an isolate and run the core prelude from bytecode: the worker-independent part
    of a cold start. The lazy chunks go in as one loader of their bytecode, by index.

    A shard keeps a few prepared isolates spare and makes them off the request path;
    loading a worker into one is cheap.
    """
    lim = limits or Limits()
    # Compiled once per process, before the budget is armed: the first isolate of a process
    # must not pay for compiling every chunk out of its worker's startup time.
    core = prelude.bytecode("core")
    codes = prelude.lazy_bytecode()
    iso = Isolate(memory_limit=lim.memory_mb << 20, stack_limit=lim.stack_kb << 10)
    with iso:
        iso.set_gc_threshold(FIRST_GC_BYTES)
        iso.arm(lim.startup_ms / 1000)
        try:
            init = iso.load(core)
            chunks = iso.unwrap(iso.chunk_loader("loadChunk", codes))
            host = iso.unwrap(iso.host_function("host", hostcall.bind(hostcall.HostState())))
            api = iso.unwrap(init(prelude.lazy_spec(), host, chunks))
            handles = tuple(
                JSHandle(api.get(n))
                for n in ("boot", "booted", "dispatch", "fire", "settle", "take", "cancel", "credit")
            )
            iso.set_imports(("<input>",))
        finally:
            iso.disarm()
    return Prepared(iso, handles)


class WorkerIsolate(Outbox):
    """One worker script loaded into one isolate, with its requests in flight."""

    def __init__(
        self,
        script: Script,
        limits: Limits | None = None,
        env: dict[str, Any] | None = None,
        *,
        host_ops: HostOps = deny_host_ops,
        watchdog: Watchdog | None = None,
        prepared: Prepared | None = None,
        clock: Callable[[], float] = time.monotonic,
        raw_fetch: bool = False,
        bindings: list[list[str]] | None = None,
    ) -> None:
        self.script = script
        self.limits = limits or Limits()
        self.clock = clock
        self.watchdog = watchdog
        self.raw_fetch = raw_fetch  # fetch results stay the JS view (dict) instead of HttpResponse
        self.tag: Any = None  # the owner's label (a shard keeps its cache key here)
        self._host_ops = host_ops
        self.inflight: dict[int, Call] = {}
        self.retiring = False
        self.discarded = False
        self.requests = 0
        self.orphan_logs = 0  # console lines of no request in flight: counted, not kept by the host
        self.orphan_dropped = 0  # such lines JS dropped over its per-isolate cap (before they got here)
        self.bad_events = 0  # malformed outbox events (each failed its request, if it named one)
        self._rid = 0
        self._settlements: list[tuple[int, list[Any]]] = []
        self._next_timer: tuple[float, int] | None = None
        self._op_rid: dict[int, int] = {}
        self.unhandled_rejections = 0  # during requests, over this isolate's life
        self._rejections_dropped = 0  # the engine's count of those it did not record (over its cap), seen so far
        self.top_level_rejections = 0  # unhandled while the script's top level ran
        self._load(env or {}, prepared, bindings or [])

    # ---- loading -------------------------------------------------------------
    def _load(self, env: dict[str, Any], prepared: Prepared | None, bindings: list[list[str]]) -> None:
        lim = self.limits
        p = prepared if prepared is not None else prepare(lim)
        self.iso = iso = p.iso
        (
            self._boot,
            self._booted,
            self._dispatch,
            self._fire,
            self._settle_js,
            self._take,
            self._cancel,
            self._credit,
        ) = p.api
        with iso:
            iso.set_memory_limit(lim.memory_mb << 20)
            iso.set_stack_limit(lim.stack_kb << 10)
            iso.arm(lim.startup_ms / 1000)  # one deadline for the top level and the jobs it queues
            try:
                iso.set_imports((ENTRY_NAME,), module_loader(self.script, iso), allow_cycles=True)
                try:
                    iso.load(MODULES.get(iso, self.script.source, ENTRY_NAME))
                except EngineError as exc:
                    raise self._load_error(exc) from None
                try:
                    boot_promise = iso.module(BOOTSTRAP, "<bootstrap>")
                    self._boot(
                        iso.unwrap(boot_promise),
                        orjson.dumps(env).decode(),
                        orjson.dumps(lim.js_view()).decode(),
                        orjson.dumps(bindings).decode(),
                    )
                    iso.run_jobs()
                    state = orjson.loads(self._booted())
                except EngineError as exc:
                    raise self._load_error(exc) from None
            finally:
                iso.disarm()
                taken = iso.take_rejections()  # unhandled at the top level: no request to charge them to
                self._rejections_dropped = iso.rejections_dropped
                self.top_level_rejections = sum(r["event"] == "unhandled" for r in taken) + self._rejections_dropped
        if "handlers" not in state:
            if state.get("code") == "E_CPU_LIMIT":  # the time limit, caught by the boot code
                raise ScriptError(
                    f"the script's top level used more than {lim.startup_ms:g} ms of CPU", code="E_CPU_LIMIT"
                )
            raise ScriptError(
                self._clean(state.get("message", "")),
                code=state.get("code", "E_SCRIPT"),
                stack=self._clean(state.get("stack", "")),
            )
        self.handlers = frozenset(state["handlers"])
        self._drain(self._take(False))

    def _load_error(self, exc: EngineError) -> ScriptError:
        if isinstance(exc, (BudgetExceeded, Interrupted)):
            return ScriptError(
                f"the script's top level used more than {self.limits.startup_ms:g} ms of CPU", code="E_CPU_LIMIT"
            )
        if isinstance(exc, OutOfMemory):
            return ScriptError(
                f"the script's top level ran out of memory (limit {self.limits.memory_mb} MB)", code="E_OOM"
            )
        if isinstance(exc, StackOverflow):
            return ScriptError("the script's top level overflowed the stack", code="E_STACK")
        if exc.code in IMPORT_CODES:  # an import the loader refused (runtime/modules.py)
            return ScriptError(self._clean(exc.message), code=exc.code, stack=self._clean(exc.stack))
        code = "E_COMPILE" if exc.name == "SyntaxError" else "E_SCRIPT"
        frames = [line.strip() for line in self._clean(exc.stack).splitlines() if line.strip().startswith("at ")]
        at = f" ({frames[0]})" if code == "E_COMPILE" and frames else ""
        return ScriptError(f"{exc.name}: {self._clean(exc.message)}{at}", code=code, stack=self._clean(exc.stack))

    def _clean(self, text: str) -> str:
        return text.replace("<input>", self.script.name)

    # ---- requests ------------------------------------------------------------
    def submit(
        self,
        kind: str,
        arg: Any,
        *,
        on_result: Callable[[Call], None] | None = None,
        on_finish: Callable[[Call], None] | None = None,
        limits: Limits | None = None,
        tag: Any = None,
        on_chunk: Callable[[Call, str, Any], None] | None = None,
    ) -> Call:
        """Start a request: kind is task|scheduled (arg: a JSON value) or fetch (an HttpRequest,
        or its to_js() dict; another shape is refused with E_BAD_REQUEST, see calls.dispatch_args).
        `tag` is the caller's own, kept on the Call.

        With `on_chunk` (fetch only), a Response whose body is a stream is answered in parts:
        on_result gets its head (a value with `"stream": True`, no body), then on_chunk(call,
        "c", base64 text) for each piece, and on_chunk(call, "e", None) at its end or
        on_chunk(call, "x", ErrorInfo) if it fails or is cut off by a limit. JS sends at most
        `stream_window_bytes` ahead; credit() lets it send more."""
        if self.discarded or self.retiring:
            raise RuntimeFault("this isolate is retired and takes no new requests", code="E_ISOLATE_DISCARDED")
        if kind not in self.handlers:
            have = ", ".join(sorted(self.handlers)) or "none"
            raise ScriptError(
                f"{self.script.name} has no {kind} handler in its default export (it has: {have})", code="E_NO_HANDLER"
            )
        stream = on_chunk is not None and kind == "fetch"
        text, rest = dispatch_args(kind, arg, stream)  # a refused argument (UsageError) changes nothing here
        lim = limits or self.limits
        now = self.clock()
        self._rid += 1
        self.requests += 1
        call = Call(self._rid, kind, now, now + lim.wall_ms / 1000, lim.cpu_ms / 1000, on_result, on_finish, tag)
        if stream:
            call.on_chunk = on_chunk
        self.inflight[call.rid] = call
        self._turn(call, self._dispatch, call.rid, kind, text, now * 1000, *rest)
        return call

    def credit(self, rid: int, nbytes: int) -> None:
        """The client took `nbytes` more of request `rid`'s streamed body: JS may send that many more."""
        call = self.inflight.get(rid)
        if call is not None and call.streaming and not self.discarded and nbytes > 0:
            self._turn(call, self._credit, rid, nbytes)

    def cancel(self, rid: int) -> None:
        """The client went away: stop request `rid` (its body stream's source is cancelled)."""
        call = self.inflight.get(rid)
        if call is not None:
            call.streaming = False
            call.on_chunk = None
            self._abandon(call, retire=False)

    def settle(self, opid: int, ok: bool, value: Any) -> None:
        """Queue the outcome of a host operation; the next pump delivers it."""
        self._settlements.append((opid, [opid, ok, value]))

    def pump(self) -> float | None:
        """Run what is due (settlements, timers, deadlines); return when to pump next, or None."""
        if self.discarded:
            return None
        if self._settlements:
            batch, self._settlements = self._settlements, []
            by_rid: dict[int, list[list[Any]]] = {}
            for opid, item in batch:
                by_rid.setdefault(self._op_rid.pop(opid, 0), []).append(item)
            for rid, items in by_rid.items():
                call = self.inflight.get(rid)
                if call is not None and not self.discarded:
                    self._turn(call, self._settle_js, orjson.dumps(items).decode())
        now = self.clock()
        while self._next_timer is not None and self._next_timer[0] <= now * 1000 and not self.discarded:
            call = self.inflight.get(self._next_timer[1])
            if call is None:
                break
            self._turn(call, self._fire, now * 1000)
        for call in list(self.inflight.values()):
            if call.deadline <= now:
                self._deadline(call)
        if self.retiring and not self.inflight:
            self.discard()
        return self.next_wake()

    def next_wake(self) -> float | None:
        """When pump() has work next (monotonic seconds), or None."""
        if self.discarded:
            return None
        now = self.clock()
        wake = [c.deadline for c in self.inflight.values()]
        if self._next_timer is not None:
            wake.append(self._next_timer[0] / 1000)
        if self._settlements:
            wake.append(now)
        return min(wake) if wake else None

    def discard(
        self, code: str = "E_ISOLATE_DISCARDED", message: str = "the isolate running this request was discarded"
    ) -> None:
        """Drop the isolate; requests still in flight fail with `code`."""
        if self.discarded:
            return
        self.discarded = True
        self.iso.close()
        for call in list(self.inflight.values()):
            self._end_stream(call, code, message)
            if not call.responded:
                self._respond(call, Result(False, error=ErrorInfo(code, message)))
            self._finish(call)

    @property
    def idle(self) -> bool:
        """No request in flight."""
        return not self.inflight

    def heap_bytes(self) -> int:
        """Engine heap in use (bytes)."""
        return self.iso.heap_bytes()

    # ---- turns ---------------------------------------------------------------
    def _turn(self, call: Call, fn: JSHandle, *args: Any) -> None:
        remaining = call.cpu_budget - call.cpu_used
        iso = self.iso
        watchdog = self.watchdog
        if watchdog is not None:
            # Half the grace before the watchdog interrupts the isolate, the other half for
            # the interrupt to work before it ends the process.
            half = self.limits.grace_ms / 2000
            watchdog.arm(remaining + half, call, iso.interrupt, half)
        try:
            with iso:
                out, jobs, used = iso.turn(fn, args, remaining)
                rejections = iso.take_rejections()
                if jobs or f'["f",{call.rid}]' not in out:
                    # The job queue is empty now: take(true) also fails requests that
                    # nothing is left to settle ("will never generate a response").
                    more = self._take(True)
                    out = (out[:-1] + "\n," + more[1:]) if out and more else (out or more)
        except EngineError as exc:
            err = self._turn_error(call, exc)
            self._end_stream(call, err.code, err.message)
            self._respond(call, Result(False, error=err))
            self.discard()
            return
        finally:
            if watchdog is not None:
                watchdog.disarm()
        call.cpu_used += used
        first = self._log_rejections(call, rejections) if rejections else None
        self._drain(out)
        if first is not None and not call.responded and not call.finished:
            self._respond(
                call,
                Result(
                    False,
                    error=ErrorInfo(
                        "E_UNHANDLED_REJECTION", f"the request failed with an unhandled promise rejection: {first}"
                    ),
                ),
            )
            self._abandon(call)
        if call.cpu_used > call.cpu_budget and not call.finished:
            self._end_stream(call, "E_CPU_LIMIT", self._cpu_message(call))
            if not call.responded:
                self._respond(call, Result(False, error=ErrorInfo("E_CPU_LIMIT", self._cpu_message(call))))
            self._abandon(call)

    def _log_rejections(self, call: Call, rejections: list[dict[str, Any]]) -> str | None:
        """Unhandled rejections of a turn become console lines of its request (capped); the
        first one's reason, or None. (A rejection handled in a later turn is not undone.)"""
        first = None
        for r in rejections:
            if r["event"] != "unhandled":
                continue
            self.unhandled_rejections += 1
            reason = self._clean(r["reason"])
            first = first or reason
            call.rejections += 1
            n = call.rejections
            if n <= MAX_REJECTION_LINES:
                stack = self._clean(r["stack"]).rstrip()
                self._on_log(call.rid, "error", f"Uncaught (in promise) {reason}" + (f"\n{stack}" if stack else ""))
            elif n == MAX_REJECTION_LINES + 1:
                self._on_log(
                    call.rid,
                    "error",
                    f"[more than {MAX_REJECTION_LINES} unhandled promise rejections in this request; "
                    "the rest are not logged]",
                )
        dropped = self.iso.rejections_dropped - self._rejections_dropped  # a flood over the engine's cap
        if dropped > 0:
            self._rejections_dropped += dropped
            self.unhandled_rejections += dropped
            call.rejections += dropped
        return first

    def _turn_error(self, call: Call, exc: EngineError) -> ErrorInfo:
        if isinstance(exc, (BudgetExceeded, Interrupted)):
            return ErrorInfo("E_CPU_LIMIT", self._cpu_message(call))
        if isinstance(exc, OutOfMemory):
            return ErrorInfo("E_OOM", f"the request ran out of memory (isolate limit {self.limits.memory_mb} MB)")
        if isinstance(exc, StackOverflow):
            return ErrorInfo("E_STACK", f"the request overflowed the stack (limit {self.limits.stack_kb} KB)")
        return ErrorInfo("E_INTERNAL", f"the runtime failed: {exc.name}: {exc.message}")

    def _cpu_message(self, call: Call) -> str:
        return f"the request used more than its CPU budget of {call.cpu_budget * 1000:g} ms"

    def _end_stream(self, call: Call, code: str, message: str) -> None:
        """A streamed body cut off by the host (a limit, a discarded isolate): its failure goes out."""
        if call.streaming and call.on_chunk is not None:
            call.streaming = False
            call.on_chunk(call, "x", ErrorInfo(code, message))

    def _deadline(self, call: Call) -> None:
        if call.streaming:
            wall = (call.deadline - call.started) * 1000
            self._end_stream(
                call,
                "E_WALL_TIMEOUT",
                f"the response stream did not end within the request's wall-clock limit of {wall:g} ms",
            )
            self._abandon(call, retire=False)
            return
        if call.responded:
            call.logs.append(LogLine("warn", "ctx.waitUntil() work was cut off at the request's deadline"))
            self._abandon(call, retire=False)
            return
        wall = (call.deadline - call.started) * 1000
        self._respond(
            call,
            Result(
                False,
                error=ErrorInfo(
                    "E_WALL_TIMEOUT", f"the request did not finish within its wall-clock limit of {wall:g} ms"
                ),
            ),
        )
        self._abandon(call)

    def _abandon(self, call: Call, retire: bool = True) -> None:
        if not self.discarded:
            with self.iso:
                out = self._cancel(call.rid)
            self._drain(out)
        self._finish(call)
        if retire:
            self.retiring = True

    def _respond(self, call: Call, result: Result) -> None:
        if call.responded:
            return
        result.logs = call.logs
        result.cpu_ms = call.cpu_used * 1000
        result.wall_ms = (self.clock() - call.started) * 1000
        call.result = result
        if call.on_result is not None:
            call.on_result(call)

    def _finish(self, call: Call) -> None:
        if call.finished:
            return
        call.finished = True
        self.inflight.pop(call.rid, None)
        if call.on_finish is not None:
            call.on_finish(call)
