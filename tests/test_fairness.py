"""A tenant's CPU-bound requests must not starve another tenant on its shard (finding 7).

Tenant "hog" keeps 15 `for(;;){}` requests in flight (each runs to its 200 ms CPU budget);
tenant "canary", on the same shard, sends small requests one after another. The shard
interleaves the two tenants' turns and keeps its heartbeat, so the canary is answered
within about one of the hog's turns, and the shard is never aborted.
"""

from __future__ import annotations

import threading
import time

import pytest

from shardrun.client import Client
from shardrun.server.routing import shard_for

from .serve_helpers import Server

pytestmark = [pytest.mark.hostile, pytest.mark.timeout(90)]

SPIN = "export default { task() { for (;;) {} } }"
HELLO = "export default { task(p) { return 'hello ' + p.n } }"
HOG, CANARY = "hog", "canary"


@pytest.fixture
def server(tmp_path):
    assert shard_for(HOG, 2) == shard_for(CANARY, 2)  # co-located: the point of the test
    s = Server(
        tmp_path,
        {"spin/index.js": SPIN, "spin/worker.toml": "[limits]\ncpu_ms = 200\n", "hello.js": HELLO},
        shards=2,
        heartbeat_timeout_ms=2000,
    )
    yield s
    s.close()


def _hog(endpoint: str, stop: threading.Event, codes: list[str]) -> None:
    with Client(endpoint, timeout=30) as c:
        while not stop.is_set():
            ids = [c.send("spin", "task", {}, tenant=HOG) for _ in range(15)]
            codes.extend(c.recv().error.code for _ in ids)


def test_a_cpu_bound_tenant_does_not_starve_its_shard_neighbour(server):
    slot = shard_for(HOG, 2)
    pid = server.shard_pids()[slot]
    stop, hog_codes = threading.Event(), []
    hog = threading.Thread(target=_hog, args=(server.endpoint, stop, hog_codes))
    hog.start()
    latencies, failures = [], []
    try:
        time.sleep(0.3)  # the hog's first 15 are in the shard
        with Client(server.endpoint, timeout=30) as c:
            end = time.monotonic() + 5
            n = 0
            while time.monotonic() < end:
                t0 = time.monotonic()
                r = c.task("hello", {"n": n}, tenant=CANARY)
                latencies.append(time.monotonic() - t0)
                if not (r.ok and r.value == f"hello {n}" and r.shard == slot):
                    failures.append(r.error.code if r.error else r.value)
                n += 1
                time.sleep(0.02)
    finally:
        stop.set()
        hog.join(60)
    assert not failures, failures
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    # Without fair turns a canary request waits for the whole batch (15 x 200 ms = 3 s).
    assert p99 < 1.5, f"canary p99 {p99:.2f}s over {len(latencies)} requests"
    assert hog_codes and set(hog_codes) == {"E_CPU_LIMIT"}, set(hog_codes)
    assert server.shard_pids()[slot] == pid  # never aborted for missed heartbeats


def test_one_long_guarded_turn_does_not_look_like_a_dead_shard(tmp_path):
    # A worker may be given a CPU budget longer than the heartbeat timeout: the watchdog
    # bounds that turn, so the shard's heartbeat goes on while it runs.
    s = Server(
        tmp_path,
        {"long/index.js": SPIN, "long/worker.toml": "[limits]\ncpu_ms = 2500\n", "hello.js": HELLO},
        shards=2,
        heartbeat_timeout_ms=1000,
    )
    try:
        slot = shard_for("long", 2)
        pid = s.shard_pids()[slot]
        assert s.client.task("long").error.code == "E_CPU_LIMIT"
        assert s.shard_pids()[slot] == pid
        assert "missed heartbeats" not in s.logs()
    finally:
        s.close()


def test_the_heartbeat_stops_when_the_loop_is_wedged_outside_js(tmp_path):
    import os

    from shardrun.server.procs import HeartbeatFile

    path = tmp_path / "hb"
    fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
    busy = threading.Event()
    beat = HeartbeatFile(fd, 0.02, busy.is_set)
    try:
        beat.start()
        os.utime(fd, (0, 0))
        time.sleep(0.03)
        assert path.stat().st_mtime > 0  # the loop just made progress: it beats

        time.sleep(0.1)  # no progress, not in JS: wedged
        os.utime(fd, (0, 0))
        time.sleep(0.1)
        assert path.stat().st_mtime == 0

        busy.set()  # inside a turn the watchdog bounds
        time.sleep(0.1)
        assert path.stat().st_mtime > 0
    finally:
        beat.stop()
        os.close(fd)
