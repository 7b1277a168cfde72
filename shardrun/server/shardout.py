"""What a shard sends back for its calls: replies, the parts of streamed bodies, console lines.

A mixin of Shard (shard.py), which provides the attributes declared here. Reply bodies
collect in `_out` and leave in one message per wake-up (Shard._flush). A streamed body's
head is a reply; its pieces, end or failure follow as parts (protocol.part_body), and the
router's CONTROL messages (credit for more, or cancel) reach the call through `streams`.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from shardrun import logs, protocol, tracing
from shardrun.runtime.calls import Call, LogLine
from shardrun.server import replies
from shardrun.server.replies import CallTag

if TYPE_CHECKING:
    from shardrun.runtime.isolate import WorkerIsolate
    from shardrun.server.bodyin import RequestBodies
    from shardrun.server.metrics import ShardMetrics
    from shardrun.server.shard import ShardPlace

console = logs.get("shardrun.console")


class ShardOutput:
    """Replies, streamed parts, console lines and trace spans of a Shard's calls."""

    place: ShardPlace
    tracer: Any
    metrics: ShardMetrics
    streams: dict[int, tuple[WorkerIsolate, Call]]
    bodies: RequestBodies
    _out: list[bytes]
    _arrived: dict[int, float]
    served: int
    errors: int
    rejections: int
    bad_frames: int

    def _after(self, iso: WorkerIsolate, wake: float | None) -> None:
        raise NotImplementedError

    def _span(self, msg: protocol.Message, kind: str) -> Any:
        """The span of a request in this shard: the child of the router's (its context came in the body)."""
        assert self.tracer is not None
        arrived = self._arrived.pop(id(msg), None)
        attrs: dict[str, Any] = {"shardrun.shard": self.place.slot, "shardrun.kind": kind}
        if arrived is not None:
            attrs["shardrun.queue_wait_ms"] = round((time.monotonic() - arrived) * 1000, 3)
        parent = tracing.clean_context(msg.body.get("traceparent"), msg.body.get("tracestate"))
        return self.tracer.start("shardrun.run", parent, self.tracer.INTERNAL, attrs)

    def _reply(self, call: Call) -> None:
        r = call.result
        assert r is not None
        tag: CallTag = call.tag
        self.served += 1
        if tag.console:
            if r.logs:
                self._log_console(tag, r.logs)
            call.ext_logs_sent = len(r.logs)  # later lines (ctx.waitUntil work) are logged when it finishes
        if self.bodies.by_rid and not call.streaming:
            self.bodies.answered(tag.rid)
        body, ok = replies.result_body(tag, r, self.place.slot)
        self.errors += not ok
        if tag.trace is not None and self.tracer is not None:
            err = r.error if not r.ok else None
            self.tracer.end(
                tag.trace,
                err.code if err is not None else (None if ok else "E_RESPONSE_TOO_LARGE"),
                err.message if err is not None else "",
                **{"shardrun.cpu_ms": round(r.cpu_ms, 3), "shardrun.wall_ms": round(r.wall_ms, 3)},
            )
        self._out.append(body)

    def _chunk(self, call: Call, part: str, value: Any) -> None:
        """A part of a streamed response body, to the router (it grants more with CONTROL credit)."""
        tag: CallTag = call.tag
        if part == "c":
            n = len(value) // 4 * 3 - value[-2:].count("=")
            self._out.append(protocol.part_body(tag.rid, "c", n=n, b64=value))
            return
        self.streams.pop(tag.rid, None)
        if self.bodies.by_rid:
            self.bodies.answered(tag.rid)
        if part == "e":
            self._out.append(protocol.part_body(tag.rid, "e"))
        else:
            self.errors += 1
            self._out.append(protocol.part_body(tag.rid, "x", error={"code": value.code, "message": value.message}))

    def _control(self, body: dict[str, Any]) -> None:
        """The router's credit for a streamed body (its client took that many bytes) or its cancel,
        or a part of a request body streaming in (server/bodyin.py)."""
        rid = body.get("id")
        if type(rid) is not int:
            self.bad_frames += 1
            return
        if "part" in body:
            self.bodies.on_part(body)
            self.bad_frames += self.bodies.bad
            self.bodies.bad = 0
            return
        entry = self.streams.get(rid) or self.bodies.call_of(rid)
        if entry is None:
            return  # ended already
        iso, call = entry
        credit = body.get("credit")
        if body.get("cancel") is True:
            self.streams.pop(rid, None)
            iso.cancel(call.rid)
        elif type(credit) is int and 0 < credit <= 1 << 30:
            iso.credit(call.rid, credit)
        else:
            self.bad_frames += 1
            return
        self._after(iso, iso.next_wake())

    def _log_console(self, tag: CallTag, lines: list[LogLine]) -> None:
        for line in lines:
            console.info(
                "console",
                level_js=line.level,
                text=line.text,
                worker=tag.worker,
                tenant=tag.tenant,
                request_id=tag.request_id,
            )

    def _rejected(self, tenant: str, n: int) -> None:
        self.rejections += n
        self.metrics.rejections(tenant, n)

    def _send_error(self, rid: int, code: str, message: str, stack: str = "", span: Any = None) -> None:
        self.errors += 1
        if self.bodies.by_rid:
            self.bodies.drop(rid)  # a request that did not start: its body is not wanted
        if span is not None and self.tracer is not None:
            self.tracer.end(span, code, message)
        self._out.append(replies.error_body(rid, code, message, stack, self.place.slot))
