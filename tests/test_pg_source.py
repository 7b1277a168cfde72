"""PostgreSQL task source end to end: real nodes (serve + source) against the real database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from .queues import Db
from .serve_helpers import ROOT, Server

WORKERS = {
    "ok.js": "export default { task(p) { return { n: p.n }; } };",
    "slow.js": "export default { async task(p) { await new Promise(r => setTimeout(r, p.ms)); return { n: p.n }; } };",
    "boom.js": "export default { task(p) { throw new Error('poison ' + p.n); } };",
    "strict/index.js": "export default { async task(p) { await new Promise(r => setTimeout(r, p.ms)); return 1; } };",
    "strict/worker.toml": "[task]\ntimeout_ms = 200\nmax_retries = 1\nretry_delay_ms = 10\n",
}


def node(tmp: Path, d: Db, *, shards: int = 2, lease_s: float = 5, **sources: Any) -> Server:
    """A node (serve + the Postgres source) in its own directory."""
    tmp.mkdir(exist_ok=True)
    pg = {"database_url": d.url, "table": d.table, "poll_ms": 200, "retry_delay_ms": 50, "lease_s": lease_s}
    return Server(
        tmp,
        WORKERS,
        shards=shards,
        http_enabled=False,
        sources={**({} if "workloops" in sources else {"capacity": 4}), **sources, "postgres": pg},
    )


def node_counts(servers: list[Server]) -> dict[str, int]:
    total: dict[str, int] = {}
    for s in servers:
        (rec,) = s.events("task source stopped")
        for k in ("claimed", "completed", "failed", "retry", "dead", "stale"):
            total[k] = total.get(k, 0) + rec.get(k, 0)
    return total


def test_tasks_complete_and_bad_ones_fail_with_the_reason(tmp_path: Path, db: Db) -> None:
    deep = "[" * 100 + "]" * 100
    db.add(
        [{"script": "ok", "payload": f'{{"n": {i}}}', "tenant": f"t{i}"} for i in range(5)]
        + [
            {"script": "nope.js", "payload": '{"n": 0}'},
            {"script": "ok", "payload": f'{{"n": {deep}}}'},
            {"script": "ok", "payload": orjson.dumps({"n": "x" * (1 << 20)}).decode()},
            {"script": "ok", "tenant": "not a tenant!"},
            {"script": "boom", "payload": '{"n": 7}', "max_attempts": 2},
            {"script": "slow", "payload": '{"n": 8, "ms": 5000}', "timeout_ms": 200, "max_attempts": 1},
        ]
    )
    s = node(tmp_path, db)
    try:
        db.wait_done(11, timeout=30)
        rows = {
            (r["script"], r["status"], r["error_code"])
            for r in db.fetch("SELECT * FROM {t} WHERE status <> 'completed'")
        }
        assert rows == {
            ("nope.js", "failed", "E_NOT_FOUND"),
            ("ok", "failed", "E_BAD_JSON"),
            ("ok", "failed", "E_BAD_REQUEST"),
            ("boom", "dead", "E_SCRIPT"),
            ("slow", "dead", "E_WALL_TIMEOUT"),
        }  # the task's own timeout, below the worker's
        assert len(db.fetch("SELECT 1 FROM {t} WHERE status = 'failed' AND error_code = 'E_BAD_JSON'")) == 2
        boom = db.fetch("SELECT * FROM {t} WHERE script = 'boom'")[0]
        assert (
            boom["attempts"] == 2 and "poison 7" in boom["error"] and boom["error"].startswith("dead-lettered after 2")
        )
        done = db.fetch("SELECT payload::text AS p, result::text AS r FROM {t} WHERE status = 'completed'")
        assert sorted(orjson.loads(r["r"])["n"] for r in done) == [0, 1, 2, 3, 4]
        # a poison task does not hold the queue up: later tasks keep flowing
        db.add([{"script": "ok", "payload": '{"n": 99}'}])
        db.wait_done(12, timeout=10)
    finally:
        s.close()


def test_the_workers_task_policy_applies(tmp_path: Path, db: Db) -> None:
    db.add(
        [
            {"script": "strict", "payload": '{"ms": 5000}'},  # the worker's timeout and retries
            {"script": "strict", "payload": '{"ms": 5000}', "max_attempts": 3},  # the row's attempts win
            {"script": "strict", "payload": '{"ms": 400}', "timeout_ms": 2000},
        ]
    )  # and so does its own timeout
    s = node(tmp_path, db)
    try:
        db.wait_done(3, timeout=30)
        rows = sorted((r["attempts"], r["status"], r["error_code"]) for r in db.fetch("SELECT * FROM {t}"))
        assert rows == [(1, "completed", None), (2, "dead", "E_WALL_TIMEOUT"), (3, "dead", "E_WALL_TIMEOUT")]
    finally:
        s.close()


def test_a_task_stuck_in_running_is_recovered(tmp_path: Path, db: Db) -> None:
    db.exec("""INSERT INTO {t} (script, payload, status, attempts, lease_until, started_at)
               VALUES ('ok', '{"n": 1}', 'running', 1, now() - interval '1 second', now() - interval '2 hours'),
                      ('ok', '{"n": 2}', 'running', 3, now() - interval '1 second', now() - interval '2 hours')""")
    s = node(tmp_path, db)
    try:
        db.wait_done(2, timeout=20)
        rows = {r["attempts"]: (r["status"], r["error_code"]) for r in db.fetch("SELECT * FROM {t}")}
        assert rows == {2: ("completed", None), 4: ("dead", "E_LEASE_EXPIRED")}
    finally:
        s.close()


def test_the_lease_is_renewed_for_long_tasks(tmp_path: Path, db: Db) -> None:
    db.add([{"script": "slow", "payload": '{"n": 1, "ms": 2500}'}])
    s = node(tmp_path, db, shards=1, lease_s=1)
    try:
        db.wait_done(1, timeout=20)
        (row,) = db.fetch("SELECT status, attempts FROM {t}")
        assert (row["status"], row["attempts"]) == ("completed", 1)  # never taken over, though it ran 2.5 leases
    finally:
        s.close()


@pytest.mark.slow
def test_two_nodes_share_1000_tasks_exactly_once_while_a_shard_is_killed(tmp_path: Path, db: Db) -> None:
    n = 1000
    a = node(tmp_path / "a", db, capacity=8)
    b = node(tmp_path / "b", db, capacity=8)
    try:
        db.add([{"script": "slow", "payload": f'{{"n": {i}, "ms": 5}}', "tenant": f"t{i % 50}"} for i in range(n)])
        db.wait_until(lambda: db.counts().get("completed", 0) >= 150, 30, "150 tasks completed")
        os.kill(a.shard_pids()[0], signal.SIGKILL)  # its running tasks fail with E_SHARD_LOST and are retried
        db.wait_done(n, timeout=120)
        assert db.counts() == {"completed": n}
        results = db.fetch("SELECT payload->'n' AS p, result->'n' AS r FROM {t}")
        assert all(r["p"] == r["r"] for r in results)
    finally:
        a.close()
        b.close()
    counts = node_counts([a, b])
    assert counts["completed"] == n  # no task's completion was recorded twice
    assert counts["claimed"] == n + counts.get("retry", 0) + counts.get("stale", 0)
    assert all(s.events("task source stopped")[0].get("completed", 0) > 0 for s in (a, b))  # both did work


def test_the_database_connection_drops_mid_run(tmp_path: Path, db: Db) -> None:
    n = 200
    s = node(tmp_path, db)
    try:
        db.add([{"script": "slow", "payload": f'{{"n": {i}, "ms": 20}}'} for i in range(n)])
        db.wait_until(lambda: db.counts().get("completed", 0) >= 20, 30, "20 tasks completed")
        killed = db.val("""SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
                           WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'""")
        assert killed >= 2  # the pool's and the LISTEN connection
        db.wait_done(n, timeout=60)
        assert db.counts() == {"completed": n}
    finally:
        s.close()
    assert node_counts([s])["completed"] == n


def test_the_fast_lane_is_served_while_the_general_lanes_are_full(tmp_path: Path, db: Db) -> None:
    db.add([{"script": "slow", "payload": f'{{"n": {i}, "ms": 4000}}'} for i in range(4)])
    s = node(tmp_path, db, workloops="fast_lane:1 *:2")
    try:
        db.wait_until(lambda: db.counts().get("running", 0) == 2, 15, "the two general slots busy")
        t0 = time.monotonic()
        db.add([{"script": "ok", "payload": '{"n": 42}', "queue": "fast_lane"}])
        db.wait_until(lambda: db.counts().get("completed", 0) == 1, 3, "the fast_lane task done")
        assert time.monotonic() - t0 < 3
        # strict: the fast_lane slot never took a general task
        assert db.counts() == {"completed": 1, "running": 2, "pending": 2}
    finally:
        s.close()


def test_db_listen_command(tmp_path: Path, db: Db) -> None:
    wdir = tmp_path / "workers"
    wdir.mkdir()
    (wdir / "ok.js").write_text(WORKERS["ok.js"])
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHARDRUN_")}
    args = [
        sys.executable,
        "-m",
        "shardrun",
        "db-listen",
        "--database-url",
        db.url,
        "--workers",
        str(wdir),
        "--shards",
        "1",
        "--capacity",
        "2",
        "--poll-ms",
        "100",
    ]
    missing = subprocess.run(
        [*args, "--table", "no_such_table"], check=False, capture_output=True, timeout=60, cwd=ROOT, env=env
    )
    assert missing.returncode == 3 and b"run `shardrun db-init` first" in missing.stderr
    proc = subprocess.Popen(
        [*args, "--table", db.table], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=ROOT, env=env
    )
    try:
        db.add([{"script": "ok.js", "payload": '{"n": 5}'}])
        db.wait_done(1, timeout=20)
        assert orjson.loads(db.val("SELECT result::text FROM {t}")) == {"n": 5}
    finally:
        proc.send_signal(signal.SIGTERM)
        out = proc.communicate(timeout=30)[0]
    assert proc.returncode == 0, out[-2000:]


def test_a_paused_node_cannot_complete_a_task_another_node_took_over(tmp_path: Path, db: Db) -> None:
    """Fault matrix row 32: leases run on the database's clock; a node paused past its lease
    finds the task taken over, and its late completion is rejected by the attempt number."""
    a = node(tmp_path / "a", db, shards=1, lease_s=1)
    b = None
    try:
        db.add([{"script": "slow", "payload": '{"n": 1, "ms": 2500}'}])
        db.wait_until(lambda: db.counts().get("running", 0) == 1, 10, "node a running the task")
        (source,) = a.pids("shardrun: source postgres")
        os.kill(source, signal.SIGSTOP)  # a stops renewing its lease (its shard keeps running the task)
        b = node(tmp_path / "b", db, shards=1, lease_s=1)
        db.wait_until(lambda: db.val("SELECT attempts FROM {t}") == 2, 15, "node b taking the task over")
        os.kill(source, signal.SIGCONT)
        db.wait_done(1, timeout=20)
        time.sleep(1.0)  # a's late result arrives and is refused
    finally:
        a.close()
        if b is not None:
            b.close()
    (row,) = db.fetch("SELECT status, attempts, claimed_by FROM {t}")
    assert (row["status"], row["attempts"]) == ("completed", 2)
    counts_a, counts_b = (s.events("task source stopped")[0] for s in (a, b))
    assert counts_a.get("stale") == 1 and not counts_a.get("completed") and counts_b.get("completed") == 1
