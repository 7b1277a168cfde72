"""A ZeroMQ client whose router goes away fails its requests in flight at once (E_ROUTER_LOST),
then works again with the router that takes its place."""

from __future__ import annotations

import os
import signal
import time

import pytest

from shardrun.client import Client
from shardrun.errors import ShardrunError

from .serve_helpers import Server

pytestmark = [pytest.mark.hostile, pytest.mark.timeout(120)]

SLOW = """export default {
  async task(p) { await new Promise((resolve) => setTimeout(resolve, p.ms)); return { slept: p.ms } },
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("lost"), {"slow.js": SLOW}, shards=1)
    yield s
    s.close()


def router_back(c: Client, old_pid: int, timeout: float = 20.0) -> int:
    """The pid of the router that replaced old_pid, once it answers."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            pid = c.status(timeout=0.5)["router_pid"]
        except (TimeoutError, ShardrunError):  # E_ROUTER_LOST while it comes back, or no answer yet
            time.sleep(0.05)
            continue
        if pid != old_pid:
            return int(pid)
    raise AssertionError("no new router")


def test_router_killed_with_a_request_in_flight(server):
    with Client(server.endpoint, timeout=10) as c:
        assert c.task("slow", {"ms": 1}).ok
        router = c.status()["router_pid"]
        rid = c.send("slow", "task", {"ms": 8000})
        time.sleep(0.3)  # the request is on its shard
        os.kill(router, signal.SIGKILL)
        t0 = time.monotonic()
        r = c.wait(rid)
        assert time.monotonic() - t0 < 2
        assert not r.ok and r.error is not None and r.error.code == "E_ROUTER_LOST" and "router" in r.error.message
        router_back(c, router)
        r = c.task("slow", {"ms": 1})  # the same Client, the new router
        assert r.ok and r.value == {"slept": 1}


def test_router_frozen_with_a_request_in_flight(server):
    with Client(server.endpoint, timeout=10, heartbeat=0.5) as c:
        router = c.status()["router_pid"]
        rid = c.send("slow", "task", {"ms": 1500})
        time.sleep(0.2)
        os.kill(router, signal.SIGSTOP)
        try:
            t0 = time.monotonic()
            r = c.wait(rid)
            assert time.monotonic() - t0 < 2.5
            assert not r.ok and r.error is not None and r.error.code == "E_ROUTER_LOST"
        finally:
            os.kill(router, signal.SIGCONT)
        time.sleep(1.5)  # the late reply of the request given up on arrives, and is dropped
        r = c.task("slow", {"ms": 1})
        assert r.ok and r.value == {"slept": 1}
        with pytest.raises(TimeoutError):
            c.recv(timeout=0.3)  # nothing stray left over


def test_every_new_client_notices_a_silent_router():
    # A peer that accepts connections and never answers: each fresh client must learn that it is
    # connected (the monitor is in place before the connection) and then give up with
    # E_ROUTER_LOST after its missed pings, never wait for its whole timeout.
    import zmq

    ctx = zmq.Context()
    silent = ctx.socket(zmq.ROUTER)
    silent.setsockopt(zmq.LINGER, 0)
    port = silent.bind_to_random_port("tcp://127.0.0.1")
    try:
        for _ in range(30):
            with Client(f"tcp://127.0.0.1:{port}", timeout=10, heartbeat=0.05) as c:
                t0 = time.monotonic()
                r = c.wait(c.send("any", "task", {}))
                assert r.error is not None and r.error.code == "E_ROUTER_LOST"
                assert time.monotonic() - t0 < 2
    finally:
        silent.close(0)
        ctx.term()
