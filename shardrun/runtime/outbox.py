"""The outbox: the events a worker's JS hands the host after each turn, checked one by one.

The outbox is tenant output. Every event is checked here (its shape and types) and the values
in it by shardrun.runtime.boundary; a malformed event fails its own request, never the host.

    ["r", rid, ok, value]            a response (a result, or an error object)
    ["f", rid]                       the request is finished (its waitUntil work settled)
    ["o", opid, rid, name, args]     a host operation
    ["l", rid, level, text]          a console line
    ["d", count]                     console lines of no request JS dropped, in all
    ["t", due, rid]                  the earliest timer (always last, when there are timers)
    ["c", rid, b64]                  a piece of a streamed response body
    ["e", rid]                       the streamed body ended
    ["x", rid, error]                the streamed body failed
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson

from shardrun.errors import ErrorInfo
from shardrun.runtime import boundary
from shardrun.runtime.boundary import BadOutput
from shardrun.runtime.calls import Call, HostOp, HttpResponse, LogLine, Result

if TYPE_CHECKING:
    from shardrun.engine.limits import Limits

LOG_SLACK = 4096  # bytes of console text over max_log_bytes the host keeps (room for the JS cap's own notice)
_EVENT_RID = re.compile(rb'^\["r",(\d+),')


class Outbox:
    """The event side of a WorkerIsolate (which provides the attributes declared here)."""

    inflight: dict[int, Call]
    limits: Limits
    raw_fetch: bool
    retiring: bool
    orphan_logs: int
    orphan_dropped: int
    bad_events: int
    _next_timer: tuple[float, int] | None
    _op_rid: dict[int, int]
    _host_ops: Callable[[Any, HostOp], None]

    def _respond(self, call: Call, result: Result) -> None:
        raise NotImplementedError

    def _finish(self, call: Call) -> None:
        raise NotImplementedError

    def _clean(self, text: str) -> str:
        raise NotImplementedError

    def _drain(self, out: str) -> None:
        if not out:
            self._next_timer = None  # an empty outbox also means no timers are left
            return
        try:
            events = orjson.loads(out)
        except orjson.JSONDecodeError:
            events = self._parse_each(out)
        if type(events) is not list:
            events = []
            self.bad_events += 1
        timer = None
        for ev in events:
            try:
                timer = self._event(ev)
            except (BadOutput, TypeError, ValueError, IndexError) as exc:
                self.bad_events += 1
                rid = ev[1] if type(ev) is list and len(ev) > 1 and type(ev[1]) is int else None
                call = self.inflight.get(rid) if rid is not None else None
                if call is not None and not call.responded:
                    self._respond(
                        call,
                        Result(False, error=ErrorInfo("E_BAD_OUTPUT", f"the isolate sent a malformed event: {exc}")),
                    )
                    self.retiring = True
        self._next_timer = timer

    def _event(self, ev: Any) -> tuple[float, int] | None:
        """Act on one outbox event; returns the next timer if this is the timer event."""
        if type(ev) is not list or not ev:
            raise BadOutput("an event must be a non-empty list")
        tag = ev[0]
        if tag == "t":
            due, rid = ev[1], ev[2]
            if type(due) not in (int, float) or type(rid) is not int:
                raise BadOutput('a timer event must be ["t", due, rid]')
            return float(due), rid
        if tag == "d":  # console lines of no request that JS dropped, in all, for this isolate
            if type(ev[1]) is not int:
                raise BadOutput('a dropped-lines event must be ["d", count]')
            self.orphan_dropped = ev[1]
            return None
        rid = ev[1]
        if type(rid) is not int:
            raise BadOutput("an event's request id must be an integer")
        if tag == "r":
            ok = ev[2]
            if type(ok) is not bool:
                raise BadOutput("a response event's ok must be true or false")
            self._on_response(rid, ok, ev[3])
        elif tag == "l":
            self._on_log(rid, *boundary.log_line(ev[2], ev[3]))
        elif tag == "o":
            opid, op_rid, name = ev[1], ev[2], ev[3]
            if type(op_rid) is not int or type(name) is not str:
                raise BadOutput('a host operation event must be ["o", opid, rid, name, args]')
            self._op_rid[opid] = op_rid
            self._host_ops(self, HostOp(opid, op_rid, name, ev[4]))
        elif tag == "f":
            call = self.inflight.get(rid)
            if call is not None:
                self._finish(call)
        elif tag in ("c", "e", "x"):
            self._on_stream(rid, tag, ev)
        else:
            raise BadOutput(f"unknown event {tag!r}")
        return None

    def _on_stream(self, rid: int, tag: str, ev: list[Any]) -> None:
        """A piece, the end or the failure of a streamed body: to the call's on_chunk. A piece of
        a call that is not streaming is malformed output."""
        call = self.inflight.get(rid)
        if call is None:
            return  # cancelled (the client went away): JS may still flush what it had
        if not call.streaming or call.on_chunk is None:
            raise BadOutput("a body piece of a response that is not streaming")
        if tag == "c":
            call.on_chunk(call, "c", boundary.stream_piece(ev[2]))
            return
        call.streaming = False
        if tag == "e":
            call.on_chunk(call, "e", None)
        else:
            code, message, _name, _stack = boundary.error_info(ev[2])
            call.on_chunk(call, "x", ErrorInfo(code, self._clean(message)))

    def _on_log(self, rid: int, level: str, text: str) -> None:
        """Keep a console line with its request, within the request's cap; a line of no
        request in flight (logged after it finished) is counted and dropped."""
        call = self.inflight.get(rid)
        if call is None:  # JS keeps those under a per-isolate cap; the host does not keep them
            self.orphan_logs += 1
            return
        cap = self.limits.max_log_bytes + LOG_SLACK  # the JS side caps first; this is the host's backstop
        if call.log_bytes >= cap:
            call.logs_dropped += 1
            return
        call.log_bytes += len(text)
        if call.log_bytes > cap:
            call.logs_dropped += 1
            level, text = "warn", f"[console output over {cap} bytes for this request; the rest is dropped]"
        call.logs.append(LogLine(level, text))

    def _parse_each(self, out: str) -> list[Any]:
        """One event at a time, when the batch holds text orjson refuses (lone surrogates)."""
        events = []
        for line in out[1:-1].encode("utf-8", "surrogatepass").split(b"\n,"):
            try:
                events.append(orjson.loads(line))
            except orjson.JSONDecodeError:
                m = _EVENT_RID.match(line)
                if m:
                    events.append(
                        [
                            "r",
                            int(m.group(1)),
                            False,
                            {
                                "code": "E_BAD_OUTPUT",
                                "name": "TypeError",
                                "message": "the handler's output is not valid Unicode (it contains a lone surrogate)",
                            },
                        ]
                    )
                else:
                    self.bad_events += 1
        return events

    def _on_response(self, rid: int, ok: bool, value: Any) -> None:
        call = self.inflight.get(rid)
        if call is None or call.responded:
            return
        if ok and call.kind == "fetch":
            try:
                value = (
                    boundary.wire_response(value, self.limits.max_output_bytes)
                    if self.raw_fetch
                    else HttpResponse.from_js(value, self.limits.max_output_bytes)
                )
            except BadOutput as exc:
                ok, value = False, {"code": "E_BAD_OUTPUT", "name": "TypeError", "message": str(exc)}
        if ok:
            if type(value) is dict and value.get("stream") is True:
                if call.on_chunk is None:  # JS streams only what the host asked to get streamed
                    raise BadOutput("a streamed response to a request that did not ask for one")
                call.streaming = True
            result = Result(True, value)
        else:
            code, message, name, stack = boundary.error_info(value)
            if code == "E_SCRIPT" and name == "Uncaught" and message == "null":
                # Out of memory, the engine cannot even allocate the error object and throws
                # null; by the time the host looks, the garbage is collected, so an uncaught
                # null is reported as what it almost always is.
                code, name, stack = "E_OOM", "InternalError", ""
                message = (
                    f"the request ran out of memory (isolate limit {self.limits.memory_mb} MB; "
                    "the engine threw null because it could not allocate an error object)"
                )
            result = Result(False, error=ErrorInfo(code, self._clean(message), name, self._clean(stack)))
            self.retiring = True
        self._respond(call, result)
