"""A frozen router is replaced like a frozen shard (finding 11).

The router touches a heartbeat file from its loop; the supervisor aborts a router whose
file went stale (SIGABRT, then SIGKILL) and starts a new one, which serves again.
"""

from __future__ import annotations

import os
import signal
import time

import pytest

from shardrun.client import Client
from shardrun.errors import ShardrunError

from .serve_helpers import Server

pytestmark = [pytest.mark.hostile, pytest.mark.timeout(60)]

HELLO = "export default { task(p) { return 'hello ' + p.n } }"
TIMEOUT_S = 1.5


def _served_by_a_new_router(endpoint: str, old: int) -> bool:
    with Client(endpoint, timeout=0.5) as c:  # a fresh connection: the old one died with the router
        try:
            st = c.status(timeout=0.5)
            return st["router_pid"] != old and c.task("hello", {"n": 1}, timeout=1).value == "hello 1"
        except TimeoutError:
            return False
        except ShardrunError as exc:  # connected to the frozen router's socket, which then closed
            if exc.code != "E_ROUTER_LOST":
                raise
            return False


def test_a_sigstopped_router_is_replaced(tmp_path):
    s = Server(tmp_path, {"hello.js": HELLO}, shards=2, heartbeat_timeout_ms=TIMEOUT_S * 1000)
    old = s.status()["router_pid"]
    try:
        os.kill(old, signal.SIGSTOP)  # alive, but frozen: only a heartbeat can tell
        t0 = time.monotonic()
        # the timeout, one second between SIGABRT (pending while stopped) and SIGKILL, a new router's start
        deadline = t0 + TIMEOUT_S + 8
        back = False
        while not back and time.monotonic() < deadline:
            back = _served_by_a_new_router(s.endpoint, old)
        assert back, f"no new router within {deadline - t0:.1f}s: {s.logs()}"
        assert time.monotonic() - t0 > TIMEOUT_S * 0.9  # not before its heartbeat was stale
        assert "router" in s.logs() and "missed heartbeats" in s.logs()
    finally:
        try:
            os.kill(old, signal.SIGCONT)
        except ProcessLookupError:
            pass
        s.close()
