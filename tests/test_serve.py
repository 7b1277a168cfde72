"""`shardrun serve` as real processes: routing, failures, backpressure, shutdown, reload."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from shardrun.client import Client
from shardrun.server.routing import shard_for

from .serve_helpers import Server

pytestmark = pytest.mark.timeout(120)

SLEEPY = """
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export default { async task(p) { await sleep(p.ms ?? 5); return p.n ?? 0 } }
"""
HELLO = "export default { task(p) { return 'hello ' + (p.name ?? '') }, fetch(r) { return new Response('hi ' + new URL(r.url).pathname) } }"
# One native call that runs for seconds without reaching the engine's interrupt poll (a default
# sort of a million numbers compares them as strings): only the watchdog can end it.
NATIVE = "export default { task() { const a = []; for (let k = 0; k < 1e6; k++) a.push((k * 7919) % 1000003); a.sort(); return 1 } }"
TENANTS = {f"t{i}.js": HELLO for i in range(12)}


@pytest.fixture
def server(tmp_path):
    servers = []

    def start(workers, **kw):
        s = Server(tmp_path, workers, **kw)
        servers.append(s)
        return s

    yield start
    for s in servers:
        s.close()


def test_task_and_fetch_through_the_router(server):
    s = server({"hello.js": HELLO})
    r = s.client.task("hello", {"name": "x"})
    assert r.ok and r.value == "hello x" and r.shard in (0, 1)
    f = s.client.fetch("hello", "GET", "/p")
    assert f.ok and f.value.status == 200 and f.value.body == b"hi /p"


def test_same_tenant_same_shard_as_the_routing_table_says(server):
    s = server(TENANTS, shards=3)
    for _ in range(3):
        for i in range(12):
            r = s.client.task(f"t{i}")
            assert r.ok and r.shard == shard_for(f"t{i}", 3)
    # warm isolates were reused (shard counters arrive with the next heartbeat)
    eventually(lambda: sum(x.get("hits", 0) for x in s.status()["shards"]) >= 24)


def test_errors_are_explicit(server):
    s = server({"hello.js": HELLO, "throws.js": "export default { task() { throw new Error('boom') } }"})
    assert s.client.task("nope").error.code == "E_NOT_FOUND"
    assert s.client.task("../etc/passwd").error.code == "E_BAD_NAME"
    e = s.client.task("throws").error
    assert (e.code, e.message) == ("E_SCRIPT", "boom")
    st = s.status()
    assert st["counts"]["accepted"] == 1  # unknown/bad names never reach a shard


def test_shard_killed_under_load_everything_answered_and_respawned(server):
    s = server({"sleepy.js": SLEEPY}, shards=2, tenant_max_concurrency=1000, max_queued=1000)
    pids = s.shard_pids()
    with Client(s.endpoint, timeout=30) as c:
        ids = [c.send("sleepy", "task", {"ms": 200, "n": i}) for i in range(300)]
        time.sleep(0.1)
        victim = shard_for("sleepy", 2)
        os.kill(pids[victim], signal.SIGKILL)
        t_kill = time.monotonic()
        replies = [c.recv(timeout=30) for _ in ids]
    codes = {r.error.code if r.error else "ok" for r in replies}
    assert len(replies) == 300
    assert codes <= {"ok", "E_SHARD_LOST"} and "E_SHARD_LOST" in codes
    while s.status()["shards"][victim]["pid"] in (pids[victim], 0) or not s.status()["shards"][victim]["ready"]:
        assert time.monotonic() - t_kill < 3, "shard not respawned"
        time.sleep(0.05)
    assert time.monotonic() - t_kill < 1.5
    assert s.client.task("sleepy", {"ms": 1, "n": 7}).value == 7
    st = s.status()
    assert st["shards"][victim]["restarts"] == 1
    assert st["counts"]["accepted"] == st["counts"].get("answered", 0) + st["counts"].get("failed", 0)


def test_stuck_native_loop_is_killed_and_replaced(server):
    s = server({"native.js": NATIVE, "hello.js": HELLO}, shards=2, limits={"cpu_ms": 300, "memory_mb": 256})
    pids = s.shard_pids()
    t0 = time.monotonic()
    r = s.client.task("native", timeout=20)
    assert r.error.code == "E_CPU_LIMIT" and time.monotonic() - t0 < 5
    slot = shard_for("native", 2)
    end = time.monotonic() + 5
    while True:
        st = s.status()["shards"][slot]
        if st["ready"] and st["pid"] != pids[slot]:
            break
        assert time.monotonic() < end, "stuck shard not replaced"
        time.sleep(0.05)
    assert s.client.task("hello", {"name": "after"}).value == "hello after"


def test_flood_is_refused_quickly_with_overloaded(server):
    s = server(
        {"sleepy.js": SLEEPY},
        shards=1,
        max_inflight_per_shard=4,
        max_queued=10,
        wait_timeout_ms=2000,
        tenant_max_concurrency=10_000,
        tenant_max_share=1,
    )
    with Client(s.endpoint, timeout=30) as c:
        t0 = time.monotonic()
        ids = [c.send("sleepy", "task", {"ms": 300}) for _ in range(200)]
        first = [c.recv(timeout=10) for _ in range(150)]
        fast = time.monotonic() - t0
        rest = [c.recv(timeout=10) for _ in range(len(ids) - 150)]
    codes = [r.error.code if r.error else "ok" for r in first + rest]
    assert codes.count("ok") >= 4 and codes.count("E_OVERLOADED") >= 150
    assert fast < 1.0  # the excess is refused at once, not after the wait timeout
    assert set(codes) <= {"ok", "E_OVERLOADED"}


def test_tenant_limit(server):
    s = server({"sleepy.js": SLEEPY}, shards=1, tenant_max_concurrency=3)
    with Client(s.endpoint, timeout=30) as c:
        ids = [c.send("sleepy", "task", {"ms": 300}) for _ in range(10)]
        codes = sorted((r.error.code if r.error else "ok") for r in (c.recv() for _ in ids))
    assert codes == ["E_TENANT_LIMIT"] * 7 + ["ok"] * 3


def test_sigterm_drains_in_flight_work_and_exits_0(server):
    s = server({"sleepy.js": SLEEPY}, shards=2, tenant_max_concurrency=1000)
    c = Client(s.endpoint, timeout=30)
    ids = [c.send("sleepy", "task", {"ms": 500, "n": i}) for i in range(20)]
    time.sleep(0.1)
    s.proc.send_signal(signal.SIGTERM)
    replies = [c.recv(timeout=20) for _ in ids]
    c.close()
    assert all(r.ok for r in replies), [r.error for r in replies if not r.ok]
    assert s.proc.wait(20) == 0


def test_an_edited_script_takes_effect_without_restart(server):
    s = server({"hello.js": HELLO})
    assert s.client.task("hello", {"name": "a"}).value == "hello a"
    time.sleep(0.02)
    (s.workers / "hello.js").write_text("export default { task(p) { return 'v2 ' + p.name } }")
    assert s.client.task("hello", {"name": "a"}).value == "v2 a"


def test_an_edit_of_an_imported_module_takes_effect_without_restart(server):
    s = server(
        {
            "multi/index.js": "import { greet } from './lib/greet.js'; export default { task(p) { return greet(p.name) } }",
            "multi/lib/greet.js": "export const greet = (n) => 'hello ' + n;",
            "broken/index.js": "import './gone.js'; export default { task() { return 1 } }",
        }
    )
    r = s.client.task("broken")
    assert (
        not r.ok
        and r.error.code == "E_IMPORT"
        and "cannot import './gone.js' from 'broken/index.js'" in r.error.message
    )
    assert s.client.task("multi", {"name": "a"}).value == "hello a"
    time.sleep(0.02)
    (s.workers / "multi" / "lib" / "greet.js").write_text("export const greet = (n) => 'v2 ' + n;")
    assert s.client.task("multi", {"name": "a"}).value == "v2 a"


@pytest.mark.parametrize("mode", ["shared", "oneshot"])
def test_modes(server, mode):
    s = server({"hello.js": HELLO, "counter.js": "let n = 0; export default { task() { return ++n } }"}, mode=mode)
    assert s.client.task("hello", {"name": "m"}).value == "hello m"
    counts = [s.client.task("counter").value for _ in range(4)]
    if mode == "oneshot":
        assert counts == [1, 1, 1, 1]  # a fresh isolate every time
    else:
        assert max(counts) > 1  # warm isolates are reused (on whichever shard)


def test_concurrent_timer_requests_interleave_in_one_shard(server):
    s = server({"sleepy.js": SLEEPY}, shards=1, tenant_max_concurrency=1000)
    with Client(s.endpoint, timeout=30) as c:
        t0 = time.monotonic()
        ids = [c.send("sleepy", "task", {"ms": 100, "n": i}) for i in range(100)]
        replies = [c.recv() for _ in ids]
    assert all(r.ok for r in replies)
    assert time.monotonic() - t0 < 3  # sequentially: 10 s


def test_malformed_client_frames_are_dropped_not_fatal(server):
    import zmq

    s = server({"hello.js": HELLO})
    ctx = zmq.Context()
    sock = ctx.socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(s.endpoint)
    for frames in (
        [b"junk"],
        [b"SR1", b"\x02", b"{not json"],
        [b"SR1", b"\x09", b"{}"],
        [b"SR1", b"\x02", b'{"id": 1}'],
    ):
        sock.send_multipart(frames)
    assert sock.poll(3000)
    assert b"E_BAD_REQUEST" in sock.recv_multipart()[2]
    sock.close()
    ctx.term()
    assert s.client.task("hello", {"name": "ok"}).value == "hello ok"
    assert s.status()["counts"]["bad_frames"] == 3


def test_supervisor_killed_leaves_no_orphans(server):
    s = server({"hello.js": HELLO})
    pids = [*s.shard_pids(), s.status()["router_pid"]]
    s.proc.kill()
    s.proc.wait(5)
    end = time.monotonic() + 5
    while any(_alive(p) for p in pids):
        assert time.monotonic() < end, "children outlived the supervisor"
        time.sleep(0.05)


def eventually(check, timeout: float = 5.0) -> None:
    end = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < end, "condition not met in time"
        time.sleep(0.05)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_many_clients_at_once(server):
    s = server(TENANTS, shards=2)
    errors = []

    def client(k):
        with Client(s.endpoint, timeout=30) as c:
            for i in range(50):
                r = c.task(f"t{(k + i) % 12}", {"name": str(i)})
                if not r.ok or r.value != f"hello {i}":
                    errors.append(r)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


def test_sighup_rolls_shards_without_failing_requests(server):
    s = server({"sleepy.js": SLEEPY}, shards=2, tenant_max_concurrency=1000, max_queued=1000)
    before = s.shard_pids()
    replies, stop = [], threading.Event()

    def load():
        with Client(s.endpoint, timeout=30) as c:
            while not stop.is_set():
                ids = [c.send("sleepy", "task", {"ms": 20, "n": i}) for i in range(20)]
                replies.extend(c.recv() for _ in ids)

    t = threading.Thread(target=load)
    t.start()
    time.sleep(0.3)
    s.proc.send_signal(signal.SIGHUP)
    eventually(
        lambda: all(p not in before for p in s.shard_pids()) and all(x["ready"] for x in s.status()["shards"]), 20
    )
    time.sleep(0.3)
    stop.set()
    t.join(30)
    assert replies and all(r.ok for r in replies), {r.error.code for r in replies if not r.ok}
    assert not any(_alive(p) for p in before)


def test_a_stalled_shard_is_aborted_and_replaced(server):
    s = server({"sleepy.js": SLEEPY}, shards=2, heartbeat_timeout_ms=1000, tenant_max_concurrency=1000)
    pids = s.shard_pids()
    slot = shard_for("sleepy", 2)
    with Client(s.endpoint, timeout=30) as c:
        ids = [c.send("sleepy", "task", {"ms": 100}) for _ in range(5)]
        time.sleep(0.05)
        os.kill(pids[slot], signal.SIGSTOP)  # alive, but frozen: only the heartbeat can tell
        t0 = time.monotonic()
        codes = {(r.error.code if r.error else "ok") for r in (c.recv() for _ in ids)}
    assert codes <= {"E_SHARD_LOST", "ok"} and "E_SHARD_LOST" in codes
    assert time.monotonic() - t0 < 5
    eventually(
        lambda: s.status()["shards"][slot]["pid"] not in (pids[slot], 0) and s.status()["shards"][slot]["ready"], 5
    )
    assert s.client.task("sleepy", {"ms": 1, "n": 3}).value == 3


def test_process_roles_titles_and_a_fork_safe_supervisor(server):
    s = server({"hello.js": HELLO}, shards=2)
    st = s.status()
    titles = {_cmdline(x["pid"]) for x in st["shards"]} | {_cmdline(st["router_pid"])}
    assert titles == {"shardrun: shard 0", "shardrun: shard 1", "shardrun: router"}
    sup = s.proc.pid
    assert _cmdline(sup).startswith("shardrun: supervisor")
    # The forking parent has one thread and never loaded zmq or the engine.
    assert len(os.listdir(f"/proc/{sup}/task")) == 1
    with open(f"/proc/{sup}/maps") as f:
        maps = f.read()
    assert "libzmq" not in maps and "_quickjs" not in maps


def test_flood_keeps_router_memory_flat(server):
    import psutil

    s = server(
        {"sleepy.js": SLEEPY},
        shards=1,
        max_inflight_per_shard=8,
        max_queued=20,
        tenant_max_concurrency=100_000,
        tenant_max_share=1,
    )
    router = psutil.Process(s.status()["router_pid"])
    with Client(s.endpoint, timeout=30) as c:
        for _ in range(3):  # warm up the router's allocations
            ids = [c.send("sleepy", "task", {"ms": 50}) for _ in range(2000)]
            for _ in ids:
                c.recv()
        rss0 = router.memory_info().rss
        for _ in range(5):
            ids = [c.send("sleepy", "task", {"ms": 50}) for _ in range(4000)]
            codes = [(r.error.code if r.error else "ok") for r in (c.recv() for _ in ids)]
            assert codes.count("E_OVERLOADED") > 3000
    assert router.memory_info().rss - rss0 < 20 << 20


def _cmdline(pid: int) -> str:
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        return f.read().replace(b"\0", b" ").decode().strip()


def test_one_worker_many_tenants_each_with_its_own_isolate(server):
    s = server({"counter.js": "let n = 0; export default { task() { return ++n } }"}, shards=2)
    a = [s.client.task("counter", tenant="alice").value for _ in range(3)]
    b = [s.client.task("counter", tenant="bob").value for _ in range(2)]
    assert a == [1, 2, 3] and b == [1, 2]  # separate isolates: no state crosses tenants
    assert s.client.task("counter", tenant="alice").shard == shard_for("alice", 2)
    assert s.client.task("counter", tenant="../x").error.code == "E_BAD_REQUEST"


def test_a_port_in_use_stops_the_server_with_a_boot_error(tmp_path):
    import socket
    import subprocess
    import sys

    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        f'[serve]\nshards = 1\nworkers = "configs/workers"\nhttp_port = {taken.getsockname()[1]}\n'
        f'client_endpoint = "ipc://{tmp_path}/c.ipc"\nruntime_dir = "{tmp_path}/run"\n'
    )
    try:
        p = subprocess.run(
            [sys.executable, "-m", "shardrun", "serve", "--config", str(cfg)],
            check=False,
            capture_output=True,
            timeout=60,
            cwd=Path(__file__).resolve().parent.parent,
        )
    finally:
        taken.close()
    assert p.returncode == 3  # EXIT_BOOT_ERROR: no respawn loop
    assert b"the router cannot start" in p.stderr and b"Address already in use" in p.stderr


def test_sighup_applies_edited_settings_to_the_new_shards(server):
    spin = "export default { task() { const end = Date.now() + 300; while (Date.now() < end) {} return 'done' } }"
    s = server({"spin.js": spin}, shards=1)
    assert s.client.task("spin").value == "done"  # the default 1,000 ms CPU budget
    before = s.shard_pids()
    s.config.write_text(s.config.read_text() + "[limits]\ncpu_ms = 100\n")
    s.proc.send_signal(signal.SIGHUP)
    eventually(lambda: s.shard_pids()[0] not in before and s.status()["shards"][0]["ready"], 20)
    assert s.client.task("spin").error.code == "E_CPU_LIMIT"


def test_status_command_shows_every_shard(server):
    from .conftest import run_cli

    s = server({"hello.js": HELLO}, shards=2)
    s.client.task("hello")
    p = run_cli("status", "--endpoint", s.endpoint, timeout=30)
    assert p.returncode == 0, p.stderr
    lines = [line for line in p.stdout.decode().splitlines() if line.strip().startswith("│")]
    assert len(lines) == 2 and all("True" in line for line in lines)
    p = run_cli("status", "--endpoint", s.endpoint, "--json", timeout=30)
    st = __import__("json").loads(p.stdout)
    assert [x["slot"] for x in st["shards"]] == [0, 1] and all(x["rss_mb"] for x in st["shards"])
