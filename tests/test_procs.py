"""Fork rules and the supervisor's respawn brake (in-process, no children)."""

from __future__ import annotations

import threading

import pytest

from shardrun.server.procs import EXIT_BOOT_ERROR, EXIT_CRASH, fork_child, fork_safety_problems
from shardrun.server.supervisor import Child, Supervisor
from shardrun.settings import load_settings


def test_a_zmq_context_makes_forking_unsafe():
    import zmq

    assert not any("zmq" in p for p in fork_safety_problems())
    ctx = zmq.Context()
    try:
        assert any("zmq context" in p for p in fork_safety_problems())
        with pytest.raises(RuntimeError, match="refusing to fork"):
            fork_child(lambda: 0, "never")
    finally:
        ctx.term()
    assert not any("zmq" in p for p in fork_safety_problems())


def test_a_thread_makes_forking_unsafe():
    stop = threading.Event()
    t = threading.Thread(target=stop.wait)
    t.start()
    try:
        assert any("threads running" in p for p in fork_safety_problems())
    finally:
        stop.set()
        t.join()


def test_a_live_isolate_makes_forking_unsafe():
    from shardrun.runtime.isolate import prepare

    p = prepare()
    assert any("isolate" in x for x in fork_safety_problems())
    p.iso.close()


@pytest.fixture
def sup(tmp_path):
    s = Supervisor(
        load_settings(None, serve={"runtime_dir": str(tmp_path), "respawn_burst": 3, "respawn_window_s": 10})
    )
    yield s
    s.cleanup()


def test_respawns_at_once_then_brakes_a_crash_loop(sup):
    delays = []
    for i in range(6):
        sup._schedule_respawn(Child("shard", 0, 0, 100 + i, 0.0), EXIT_CRASH)
        h = sup.history[0]
        delays.append(h.backoff)
    assert delays[:2] == [0.0, 0.0]
    assert delays[2] > 0 and delays[3] > delays[2] and delays[5] >= delays[4]


def test_a_boot_error_twice_stops_the_server(sup):
    sup._schedule_respawn(Child("shard", 1, 0, 200, 0.0), EXIT_BOOT_ERROR)
    assert not sup.stopping
    sup._schedule_respawn(Child("shard", 1, 0, 201, 0.0), EXIT_BOOT_ERROR)
    assert sup.stopping and sup.exit_code == EXIT_BOOT_ERROR
