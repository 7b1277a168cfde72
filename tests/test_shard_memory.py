"""A shard bounds what it really holds, its RSS, not only the engine heap it counts (finding 13).

Tenants of a worker that keeps 10 MB typed arrays in its warm isolate grow the shard's RSS
while the cache's own byte count barely moves. Over the soft ceiling the shard evicts cold
isolates; over the hard one it hands its slot to a replacement (the router holds new
requests for it), finishes what it runs and exits; a co-located canary sees no failure.
"""

from __future__ import annotations

import threading
import time

import pytest

from shardrun.client import Client
from shardrun.server.routing import shard_for

from .serve_helpers import Server

pytestmark = [pytest.mark.hostile, pytest.mark.timeout(90)]

GROW = "globalThis.keep = []; export default { task(p) { keep.push(new Uint8Array(10 << 20).fill(1)); return keep.length } }"
HELLO = "export default { task(p) { return 'hello ' + p.n } }"
CANARY = "canary"
SLOT = shard_for(CANARY, 2)
GROWERS = [t for t in (f"g{i}" for i in range(40)) if shard_for(t, 2) == SLOT][:6]


def _shard(s: Server) -> dict:
    return s.status()["shards"][SLOT]


def _eventually(pred, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.05)
    return False


def test_rss_over_the_soft_ceiling_evicts_cold_isolates(tmp_path):
    s = Server(tmp_path, {"grow.js": GROW}, shards=2, shard_rss_soft_mb=110, shard_rss_hard_mb=0)
    try:
        pid = _shard(s)["pid"]
        assert _eventually(lambda: _shard(s).get("rss_bytes", 0) > 10 << 20, 5), _shard(s)
        for t in GROWERS[:3]:
            for _ in range(3):
                assert s.client.task("grow", tenant=t).ok
        # ~90 MB of arrays the engine-heap count does not see: the shard evicts by its RSS
        assert _eventually(lambda: _shard(s)["evictions"] > 0, 5), _shard(s)
        assert _eventually(lambda: _shard(s)["rss_bytes"] < 110 << 20, 5), _shard(s)
        assert s.client.task("grow", tenant=GROWERS[0]).value == 1  # its cold isolate was evicted
        assert _shard(s)["pid"] == pid
    finally:
        s.close()


def _canary(endpoint: str, stop: threading.Event, out: list) -> None:
    with Client(endpoint, timeout=30) as c:
        n = 0
        while not stop.is_set():
            r = c.task("hello", {"n": n}, tenant=CANARY)
            out.append(r.value if r.ok else r.error.code)
            n += 1
            time.sleep(0.01)


def test_rss_over_the_hard_ceiling_recycles_the_shard_without_failing_requests(tmp_path):
    s = Server(tmp_path, {"grow.js": GROW, "hello.js": HELLO}, shards=2, shard_rss_soft_mb=0, shard_rss_hard_mb=130)
    stop, seen = threading.Event(), []
    canary = threading.Thread(target=_canary, args=(s.endpoint, stop, seen))
    try:
        pid = _shard(s)["pid"]
        assert _eventually(lambda: _shard(s).get("rss_bytes", 0) > 10 << 20, 5), _shard(s)
        canary.start()
        grown, end = [], time.monotonic() + 20
        while _shard(s)["pid"] in (pid, 0) and time.monotonic() < end:
            for t in GROWERS:
                r = s.client.task("grow", tenant=t)
                grown.append(r.value if r.ok else r.error.code)
        assert _shard(s)["pid"] not in (pid, 0), f"never recycled: {_shard(s)} {grown}"
        assert all(isinstance(v, int) for v in grown), grown  # its tenants' requests were not failed either
        time.sleep(0.5)  # the canary keeps going on the replacement
    finally:
        stop.set()
        if canary.ident is not None:
            canary.join(30)
        s.close()
    assert len(seen) > 20 and seen == [f"hello {n}" for n in range(len(seen))], [v for v in seen if "hello" not in v]
    log = (tmp_path / "serve.log").read_text(errors="replace")
    assert f"(pid {pid}) recycled itself (exit code 7)" in log and f"(pid {pid}) exited" not in log


def test_a_recycled_shard_is_respawned_at_once_and_never_counts_as_a_crash(tmp_path):
    from shardrun.server.procs import EXIT_RECYCLE
    from shardrun.server.supervisor import Child, Supervisor
    from shardrun.settings import load_settings

    sup = Supervisor(load_settings(None, serve={"runtime_dir": str(tmp_path), "respawn_burst": 2}))
    try:
        for i in range(5):
            sup._schedule_respawn(Child("shard", 0, 0, 100 + i, 0.0), EXIT_RECYCLE)
        h = sup.history[0]
        assert h.backoff == 0 and not h.deaths and h.respawn_at <= time.monotonic()
    finally:
        sup.cleanup()
