"""How a shard starts its requests: the isolate of a request's tenant, worker and version (the
warm one from the cache, else a new one from a spare), its call, and what happens when it ends.

A mixin of Shard (shard.py), which provides the attributes declared here. The registry is read
for every request (edits of a worker's files apply to the requests read after them; see
Registry.recheck), the cache is looked up by (tenant, worker, version), and a new version of
a worker drops the isolates of the old ones.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from shardrun import protocol
from shardrun.bindings.host import BindingHost, Caller
from shardrun.egress.host import FetchHost
from shardrun.egress.policy import FetchPolicy
from shardrun.engine.watchdog import Watchdog
from shardrun.errors import ShardrunError
from shardrun.runtime.calls import Call
from shardrun.runtime.hostops import host_ops
from shardrun.runtime.isolate import Prepared, WorkerIsolate
from shardrun.server import replies
from shardrun.server.cache import IsolateCache, Key
from shardrun.server.replies import CallTag
from shardrun.server.turns import RunQueues
from shardrun.workers import Registry, WorkerSpec

if TYPE_CHECKING:
    from shardrun.server.bodyin import RequestBodies
    from shardrun.settings import ServeSettings

# A cached isolate's heap size is sampled (a walk of its whole heap: ~0.1 ms for a warm one) at
# its 1st, 2nd, 4th ... request, then every HEAP_SAMPLE_EVERY: early growth is seen at once, and a
# hot isolate pays a fraction of a µs per request.
HEAP_SAMPLE_EVERY = 256


class ShardCalls:
    """Starting a Shard's requests in their isolates, and their end."""

    registry: Registry
    cache: IsolateCache
    spares: list[Prepared]
    wakes: dict[WorkerIsolate, float | None]
    streams: dict[int, tuple[WorkerIsolate, Call]]
    runq: RunQueues
    bodies: RequestBodies
    fetch_host: FetchHost
    binding_host: BindingHost
    watchdog: Watchdog
    serve: ServeSettings
    oneshot: bool
    stopping: bool
    tracer: Any
    bad_frames: int

    if TYPE_CHECKING:  # provided by Shard and its other parts

        def _send_error(self, rid: int, code: str, message: str, stack: str = "", span: Any = None) -> None:
            raise NotImplementedError

        def _span(self, msg: protocol.Message, kind: str) -> Any:
            raise NotImplementedError

        def _reply(self, call: Call) -> None:
            raise NotImplementedError

        def _chunk(self, call: Call, part: str, value: Any) -> None:
            raise NotImplementedError

        def _after(self, iso: WorkerIsolate, wake: float | None) -> None:
            raise NotImplementedError

        def _rejected(self, tenant: str, n: int) -> None:
            raise NotImplementedError

        def _log_console(self, tag: CallTag, lines: list[Any]) -> None:
            raise NotImplementedError

    def _start(self, msg: protocol.Message, tenant: str) -> bool:
        """Start a request (its first turn runs now); True if it runs (`runq.finished` follows)."""
        try:
            rid, worker, kind, arg = protocol.request_fields(msg)
            wall_ms = protocol.request_wall_ms(msg)
        except protocol.ProtocolError as exc:
            self.bad_frames += 1
            bad_id = msg.body.get("id")
            if isinstance(bad_id, int):
                self._send_error(bad_id, "E_BAD_REQUEST", str(exc))
            return False
        span = self._span(msg, kind) if self.tracer is not None else None
        if self.stopping:
            self._send_error(rid, "E_SHUTTING_DOWN", "the shard is shutting down", span=span)
            return False
        try:
            iso, spec = self._isolate_for(worker, msg.body.get("tenant"))
            if span is not None:
                span.set_attribute("shardrun.cache", "cold" if iso.requests == 0 else "hit")
                span.set_attribute("shardrun.tenant", iso.tag[0])
                span.set_attribute("shardrun.worker", spec.name)
            rq = msg.body.get("request_id")
            tag = CallTag(
                rid,
                spec.name,
                iso.tag[0],
                spec.console,
                rq if isinstance(rq, str) else None,
                protocol.request_depth(msg),
                replies.reply_cap(spec.limits),
                span,
            )
            limits = replace(spec.limits, wall_ms=min(wall_ms, spec.limits.wall_ms)) if wall_ms else None
            streamed = kind == "fetch" and msg.body.get("stream") is True
            call = iso.submit(
                kind,
                arg,
                on_result=self._reply,
                on_finish=lambda call: self._finished(call, tenant),
                limits=limits,
                tag=tag,
                on_chunk=self._chunk if streamed else None,
            )
            if call.streaming:  # its head is out: the router's credit and cancel find it here
                self.streams[rid] = (iso, call)
            if self.bodies.by_rid and not call.finished:
                self.bodies.started(rid, iso, call)
        except ShardrunError as exc:
            self._send_error(rid, exc.code, exc.message, exc.stack, span=span)
            return False
        self._after(iso, iso.next_wake())
        return True

    def _isolate_for(self, worker: str, tenant: str | None) -> tuple[WorkerIsolate, WorkerSpec]:
        """The warm isolate of (tenant, worker, version), or a new one. The router checked tenant."""
        spec = self.registry.get(worker)
        key = (tenant or spec.tenant, spec.name, spec.version)
        if not self.oneshot:
            iso = self.cache.get(key)
            if iso is not None:
                self._maybe_resize(key, iso)
                return iso, spec  # type: ignore[return-value]
            # A new version of a worker makes its old isolates useless.
            self.cache.drop_other_versions(key[0], spec.name, spec.version)
        prepared = self.spares.pop() if self.spares else None
        iso = WorkerIsolate(
            spec.script,
            spec.limits,
            spec.env,
            host_ops=host_ops(self.fetch_host, self._wake, self.binding_host, self.bodies.read),
            watchdog=self.watchdog,
            prepared=prepared,
            raw_fetch=True,
            bindings=spec.bindings.js_spec(),
        )
        iso.tag = key
        if iso.top_level_rejections:
            self._rejected(key[0], iso.top_level_rejections)
        if not self.oneshot:
            self.cache.put(key, iso, iso.heap_bytes())
        return iso, spec

    def _fetch_policy(self, iso: WorkerIsolate, call: Call) -> FetchPolicy:
        return self.registry.get(call.tag.worker).fetch  # edits of worker.toml apply at once

    def _caller(self, iso: WorkerIsolate, call: Call) -> Caller:
        spec = self.registry.get(call.tag.worker)  # edits of worker.toml apply at once (a removed binding too)
        return Caller(call.tag.tenant, spec.name, spec.bindings, spec.limits)

    def _wake(self, iso: WorkerIsolate) -> None:
        """A host op of this isolate settled: pump it in this loop turn."""
        if iso.inflight:
            self.wakes[iso] = time.monotonic()

    def _maybe_resize(self, key: Key, iso: Any) -> None:
        n = iso.requests
        if (n & (n - 1) == 0) if n < HEAP_SAMPLE_EVERY else n % HEAP_SAMPLE_EVERY == 0:
            self.cache.resize(key, iso.heap_bytes())

    def _finished(self, call: Call, tenant: str) -> None:
        """A call is over (its response and its waitUntil work): free its tenant's run slot, and log
        the console lines that came after the response."""
        tag: CallTag = call.tag
        self.runq.finished(tenant)
        if self.bodies.by_rid:
            self.bodies.drop(tag.rid)
        if call.rejections:
            self._rejected(tenant, call.rejections)
        if tag.console and len(call.logs) > call.ext_logs_sent and call.result is not None:
            self._log_console(tag, call.logs[call.ext_logs_sent :])
