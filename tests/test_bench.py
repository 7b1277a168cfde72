"""`shardrun bench`'s own logic at tiny sizes: architectures, key schedules, timed regions, JSON."""

from __future__ import annotations

import threading

import orjson
import pytest

from shardrun.benchmarks import scenarios
from shardrun.benchmarks.pinned import PinnedArch
from shardrun.benchmarks.report import measure, summarise
from shardrun.benchmarks.scenarios import Case, cases, run_case
from shardrun.benchmarks.scripts import CPU_HEAVY, SEED, SIMPLE
from shardrun.benchmarks.shared import SharedArch

from .conftest import run_cli


def test_the_scripts_compute_what_the_seed_defines():
    assert PinnedArch(1).run("k", SIMPLE) == sum(range(1000))
    assert abs(PinnedArch(1).run("k", CPU_HEAVY) - sum(i**0.5 * __import__("math").sin(i) for i in range(10000))) < 1e-6


def test_every_case_runs_on_every_architecture_at_a_tiny_size():
    tiny = [
        Case(
            c.id,
            c.title,
            c.table,
            c.script,
            min(c.iterations, 3),
            c.keys,
            c.sleep_ms,
            c.prewarm,
            min(c.threads, 2),
            min(c.per_thread, 3),
            c.pool_size,
            c.isolates,
            c.archs,
        )
        for c in cases()
    ]
    for case in tiny:
        for arch in case.archs:
            n, seconds = run_case(case, arch)
            assert n > 0 and seconds > 0


def test_multithread_keys_never_cross_threads(monkeypatch):
    seen: dict[str, set[int]] = {}
    lock = threading.Lock()

    class Spy(PinnedArch):
        def run(self, key, script):
            with lock:
                seen.setdefault(key, set()).add(threading.get_ident())
            return 0

    monkeypatch.setitem(scenarios.ARCHS, "pinned", Spy)
    case = Case("mt", "t", "multithread", SIMPLE, keys=5, threads=3, per_thread=10)
    n, _ = run_case(case, "pinned")
    assert n == 30
    assert sorted(seen) == sorted(f"pinned-t{t}-w{w}" for t in range(3) for w in range(5))
    assert all(len(threads) == 1 for threads in seen.values())


def test_shared_pool_is_one_lru_with_its_size():
    pool = SharedArch(2)
    for key in ("a", "b", "a", "c"):
        pool.run(key, SIMPLE)
    assert list(pool.pool) == ["a", "c"]  # b was least recently used


def test_pinned_pools_are_per_thread():
    arch = PinnedArch(10)
    arch.run("k", SIMPLE)
    other = []
    t = threading.Thread(target=lambda: (arch.run("k", SIMPLE), other.append(len(arch.local.pool))))
    t.start()
    t.join()
    assert len(arch.local.pool) == 1 and other == [1]


def test_standard_case_sleeps_inside_the_timed_region():
    case = Case("standard_5ms", "t", "real workers", SIMPLE, iterations=4, keys=2, sleep_ms=5)
    n, seconds = run_case(case, "pinned")
    assert n == 4 and seconds >= 0.02


def test_summary_has_ratios_beside_the_seeds():
    rows = summarise({"mt_4x20": {"worker": [100.0, 120.0, 110.0], "shared": [200.0], "pinned": [440.0]}})
    (row,) = rows
    assert row["median"]["worker"] == 110 and row["min"]["worker"] == 100 and row["max"]["worker"] == 120
    assert row["pinned/worker"] == pytest.approx(4.0) and row["seed pinned/worker"] == pytest.approx(5766 / 1474)
    assert row["seed"] == SEED["mt_4x20"]


def test_measure_interleaves_and_keeps_every_repetition():
    case = Case("synthetic_8t1i", "t", "synthetic", threads=2, per_thread=3, isolates=1)
    ticks = []
    out = measure([case], repeat=2, tick=ticks.append)
    assert {a: len(v) for a, v in out["synthetic_8t1i"].items()} == {"worker": 2, "shared": 2, "pinned": 2}
    assert ticks[:3] == ["synthetic_8t1i worker", "synthetic_8t1i shared", "synthetic_8t1i pinned"]


def test_cli_json_schema(tmp_path):
    out = tmp_path / "b.json"
    p = run_cli("bench", "--repeat", "1", "--only", "warm_cache", "--transport", "zmq", "--json", str(out), timeout=120)
    assert p.returncode == 0, p.stderr
    doc = orjson.loads(out.read_bytes())
    assert set(doc) == {"machine", "args", "results", "summary", "served"}
    assert set(doc["served"]["warm_cache"]) == {"oneshot zmq", "shared zmq", "pinned zmq"}
    assert {"cores", "cpu", "python", "engine"} <= set(doc["machine"])
    assert set(doc["results"]["warm_cache"]) == {"shared", "pinned"}
    assert b"warm_cache" in p.stdout


def test_cli_refuses_bad_arguments():
    p = run_cli("bench", "--repeat", "0")
    assert p.returncode == 2


def test_served_key_schedule_has_a_worker_per_key():
    from shardrun.benchmarks.served import keys_of, served_cases, worker_name

    cs = {c.id: c for c in served_cases(4, 1)}
    assert keys_of(cs["cpu_bound"], "pinned") == [f"cpu-{i}" for i in range(10)]
    assert len(keys_of(cs["mt_contention_8x50"], "shared")) == 8 * 5
    assert worker_name("pinned-t0-w1", CPU_HEAVY) == "pinned-t0-w1-cpu"
    assert all(c.table != "synthetic" for c in cs.values())


def test_chart(tmp_path):
    from pathlib import Path

    from shardrun.benchmarks.chart import draw

    rows = summarise(
        {
            "mt_4x20": {"worker": [100.0], "shared": [200.0], "pinned": [400.0]},
            "warm_cache": {"shared": [900.0], "pinned": [950.0]},
        }
    )
    out = Path(tmp_path) / "c.png"
    draw(rows, out)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 5000


def test_the_bodies_bench_runs_and_checks_its_answers():
    from bench import bodies_bench

    rows = bodies_bench.measure(0.005)
    assert set(rows) == {
        "hello_fetch_us",
        "hello_fetch_stream_us",
        "mb_text_us",
        "mb_stream_us",
        "hmac_sign_us",
        "jwt_rs256_verify_us",
    }
    assert all(v > 0 for v in rows.values())


def test_the_request_bench_splits_each_request_and_checks_its_answers():
    from bench import request_bench

    for source in request_bench.WORKERS.values():  # each loop asserts its request answered
        r = request_bench.measure(source, 0.005)
        assert min(r.values()) > 0 and abs(r["total"] - r["before"] - r["turn"] - r["after"]) < 1e-6
        assert r["turn"] > r["before"]  # the JS of a fetch outweighs the Python that starts it
