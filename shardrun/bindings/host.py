"""The `binding` host operation: a worker's call on one of its env bindings, capped per request.

JS sends ["o", opid, rid, "binding", {"b": NAME, "m": METHOD, "a": ARGS}]. The binding must be one
of the calling worker's (looked up for its tenant: no binding, no access); the call counts against
the request's caps for its kind (`calls` in all: more fail with E_BINDING_LIMIT; `concurrent` in
flight: more wait their turn), then the kind's module runs it. A module answers at once (SQLite) or
with a coroutine that the AsyncRunner runs (PostgreSQL); either way the op settles with the value
or with {name, code, message}. Each finished call is counted per (tenant, binding, kind, outcome)
for the metrics.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from shardrun.bindings.aio import AsyncRunner
from shardrun.bindings.config import Binding, WorkerBindings
from shardrun.bindings.errors import BindingError, info
from shardrun.bindings.stores import Stores
from shardrun.bindings.types import KINDS
from shardrun.engine.limits import Limits
from shardrun.errors import ShardrunError

if TYPE_CHECKING:
    from shardrun.runtime.calls import Call, HostOp
    from shardrun.runtime.isolate import WorkerIsolate

log = logging.getLogger("shardrun.bindings")
OP = "binding"
MAX_WAIT_S = 10.0  # longest an answering-later call may take (and never past the request's deadline)


@dataclass(frozen=True)
class OpContext:
    """What a kind's `run` gets: who calls, through which binding, with which stores and limits."""

    tenant: str
    worker: str
    binding: Binding
    stores: Stores
    limits: Limits
    deadline: float  # monotonic: the request's


@dataclass
class KindState:
    total: int = 0
    active: int = 0
    waiting: deque[tuple[HostOp, OpContext, str, Any]] = field(default_factory=deque)


@dataclass(frozen=True)
class Caller:
    """Whose request a binding call belongs to (the shard knows from the call's tag)."""

    tenant: str
    worker: str
    bindings: WorkerBindings
    limits: Limits


class BindingHost:
    """host_ops for the `binding` operation, one per shard (or `shardrun run`)."""

    def __init__(self, stores: Stores, caller_of: Callable[[WorkerIsolate, Call], Caller], wake: Callable[[Any], None]):
        self.stores = stores
        self.caller_of = caller_of
        self.wake = wake
        self.runner: AsyncRunner = stores.runner
        self.counts: Counter[tuple[str, str, str, str]] = Counter()  # (tenant, binding, kind, outcome)

    def fileno(self) -> int:
        return self.runner.fileno()

    def __call__(self, iso: WorkerIsolate, op: HostOp) -> None:
        call = iso.inflight.get(op.rid)
        if call is None:
            return
        try:
            self._op(iso, call, op)
        except Exception:  # a bug here must fail this call, not the shard loop
            log.exception("binding operation failed")
            iso.settle(op.opid, False, info("E_INTERNAL", "binding call failed inside the server"))
            self.wake(iso)

    def _op(self, iso: WorkerIsolate, call: Call, op: HostOp) -> None:
        a = op.args
        if not isinstance(a, dict) or not isinstance(a.get("b"), str) or not isinstance(a.get("m"), str):
            return self._refuse(iso, op, "E_BINDING_ARGUMENT", "a binding call must be {b: name, m: method, a: args}")
        try:
            who = self.caller_of(iso, call)
        except ShardrunError as exc:  # its worker.toml broke (or went) since the request started
            return self._refuse(iso, op, "E_BINDING_UNAVAILABLE", f"this worker's bindings: {exc.message}")
        binding = who.bindings.by_name.get(a["b"])
        if binding is None:  # capability: only what this worker's worker.toml binds
            return self._refuse(iso, op, "E_BINDING_ARGUMENT", f"this worker has no binding named {a['b'][:64]!r}")
        cap = who.bindings.caps[binding.kind]
        states = call.bindings if isinstance(call.bindings, dict) else None
        if states is None:
            states = call.bindings = {}
        st = states.get(binding.kind)
        if st is None:
            st = states[binding.kind] = KindState()
        if st.total >= cap.calls:
            self.counts[(who.tenant, binding.name, binding.kind, "E_BINDING_LIMIT")] += 1
            return self._refuse(
                iso,
                op,
                "E_BINDING_LIMIT",
                f"this request already made {st.total} {binding.kind} calls, its limit "
                f"([bindings.caps.{binding.kind}] calls = {cap.calls})",
            )
        st.total += 1
        ctx = OpContext(who.tenant, who.worker, binding, self.stores, who.limits, call.deadline)
        if st.active >= cap.concurrent:
            st.waiting.append((op, ctx, a["m"], a.get("a")))
            return
        self._start(iso, call, st, op, ctx, a["m"], a.get("a"))

    def _start(
        self, iso: WorkerIsolate, call: Call, st: KindState, op: HostOp, ctx: OpContext, m: str, args: Any
    ) -> None:
        st.active += 1
        key = (iso, call, op.opid, ctx)
        module = importlib.import_module(KINDS[ctx.binding.kind].module)
        try:
            out = module.run(ctx, m, args)
        except BindingError as exc:
            return self.done(key, False, exc.info())
        if inspect.iscoroutine(out):
            timeout = min(MAX_WAIT_S, call.deadline - time.monotonic())
            if timeout <= 0:
                out.close()
                return self.done(key, False, info("E_WALL_TIMEOUT", "binding call: the request has no time left"))
            self.runner.submit(key, out, timeout)
            return
        self.done(key, True, out)

    def done(self, key: Any, ok: bool, value: Any) -> None:
        """A call ended (now, or from the runner's drain): settle it, start the next waiting one."""
        iso, call, opid, ctx = key
        self.counts[(ctx.tenant, ctx.binding.name, ctx.binding.kind, "ok" if ok else str(value.get("code")))] += 1
        iso.settle(opid, ok, value)
        self.wake(iso)
        st: KindState = call.bindings[ctx.binding.kind]
        st.active -= 1
        if st.waiting and not call.finished:
            op, ctx2, m, args = st.waiting.popleft()
            self._start(iso, call, st, op, ctx2, m, args)

    def drain(self) -> None:
        """Settle what the runner finished."""
        for key, ok, value in self.runner.drain():
            self.done(key, ok, value)

    def _refuse(self, iso: WorkerIsolate, op: HostOp, code: str, message: str) -> None:
        iso.settle(op.opid, False, info(code, message, "TypeError" if code == "E_BINDING_ARGUMENT" else "Error"))
        self.wake(iso)

    def close(self) -> None:
        self.stores.close()
