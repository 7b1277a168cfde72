"""The fetch host op: per-request caps, then out to the network (Egress) or to another worker
(InternalRoutes).

Caps per request, from the worker's policy: `max_subrequests` fetches in all (more fail
with E_SUBREQUEST_LIMIT), `max_concurrent` at once (more wait their turn), each at most
`timeout_ms` and never past the request's own wall deadline; worker-to-worker calls carry
their depth and stop at `max_depth` (E_LOOP_LIMIT).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..calls import Call, HostOp
from ..errors import ShardrunError
from .client import Egress, fetch_error
from .policy import FetchPolicy

if TYPE_CHECKING:
    from ..runtime import WorkerIsolate
    from .internal import InternalRoutes


@dataclass
class Subrequests:
    """A request's fetches: how many so far, how many running, which wait for a slot."""

    total: int = 0
    active: int = 0
    waiting: deque[tuple[HostOp, FetchPolicy]] = field(default_factory=deque)


class FetchHost:
    """host_ops for WorkerIsolates: fetch() with the worker's policy."""

    def __init__(self, egress: Egress, policy_of: Callable[[WorkerIsolate, Call], FetchPolicy],
                 wake: Callable[[WorkerIsolate], None], internal: InternalRoutes | None = None,
                 depth_of: Callable[[Call], int] = lambda call: 0) -> None:
        self.egress = egress
        self.policy_of = policy_of
        self.wake = wake
        self.internal = internal
        self.depth_of = depth_of

    def __call__(self, iso: WorkerIsolate, op: HostOp) -> None:
        call = iso.inflight.get(op.rid)
        if call is None:
            return
        if op.name != "fetch":
            return self._fail(iso, op, "E_BAD_REQUEST", f"unknown host operation {op.name!r}")
        try:
            policy = self.policy_of(iso, call)
        except ShardrunError as exc:
            return self._fail(iso, op, exc.code, exc.message)
        if not isinstance(op.args, dict) or not isinstance(op.args.get("url"), str):
            return self._fail(iso, op, "E_BAD_REQUEST", "fetch(): malformed request")
        st = call.ext if isinstance(call.ext, Subrequests) else None
        if st is None:
            st = call.ext = Subrequests()
        if st.total >= policy.max_subrequests:
            return self._fail(iso, op, "E_SUBREQUEST_LIMIT",
                              f"this request already made {st.total} fetches, its limit (max_subrequests)")
        st.total += 1
        if st.active >= policy.max_concurrent:
            st.waiting.append((op, policy))
            return
        self._start(iso, call, st, op, policy)

    def _start(self, iso: WorkerIsolate, call: Call, st: Subrequests, op: HostOp, policy: FetchPolicy) -> None:
        timeout = min(policy.timeout_ms / 1000, call.deadline - time.monotonic())
        if timeout <= 0:
            return self._fail(iso, op, "E_WALL_TIMEOUT", "fetch(): the request has no time left")
        key = (iso, call, op.opid)
        worker = self.internal.target(op.args["url"]) if self.internal is not None else None
        if worker is not None:
            assert self.internal is not None
            depth = self.depth_of(call) + 1
            if depth > policy.max_depth:
                return self._fail(iso, op, "E_LOOP_LIMIT", f"fetch to worker {worker!r}: worker-to-worker calls "
                                                           f"are {depth} deep, over the limit of {policy.max_depth}")
            st.active += 1
            self.internal.send(key, worker, op.args, depth, timeout)
            return
        st.active += 1
        self.egress.submit(key, op.args, policy, timeout)

    def done(self, key: Any, ok: bool, value: Any) -> None:
        """A fetch ended (from Egress.drain or InternalRoutes.drain): settle it, start a waiting one."""
        iso, call, opid = key
        iso.settle(opid, ok, value)
        self.wake(iso)
        st = call.ext
        if isinstance(st, Subrequests):
            st.active -= 1
            while st.waiting and st.active < st.waiting[0][1].max_concurrent and not call.finished:
                op, policy = st.waiting.popleft()
                self._start(iso, call, st, op, policy)

    def _fail(self, iso: WorkerIsolate, op: HostOp, code: str, message: str) -> None:
        iso.settle(op.opid, False, fetch_error(code, message))
        self.wake(iso)
