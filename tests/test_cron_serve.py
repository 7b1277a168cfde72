"""Cron triggers on a running `shardrun serve`: a per-second schedule fires `scheduled` on the
tenant's shard; two nodes on the local PostgreSQL run each firing once."""

from __future__ import annotations

import json
import time
from pathlib import Path

from .queues import Db
from .serve_helpers import Server

TICK = """export default {
  async scheduled(controller, env, ctx) {
    console.log("tick " + JSON.stringify({ cron: controller.cron, at: controller.scheduledTime, type: controller.type }));
  },
  fetch() { return new Response("ok"); },
}"""
WORKERS = {
    "tick/index.js": TICK,
    "tick/worker.toml": 'tenant = "acme"\n[triggers]\ncrons = ["* * * * * *"]\n',
    "broken/index.js": TICK,
    "broken/worker.toml": '[triggers]\ncrons = ["61 * * * *"]\n',
}


def wait_for(pred, timeout: float, what: str, srv: Server) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return
        time.sleep(0.1)
    raise AssertionError(f"{what} within {timeout}s: {srv.logs()}")


def ticks(srv: Server) -> list[dict]:
    return [json.loads(e["text"][5:]) for e in srv.events("console") if e.get("text", "").startswith("tick ")]


def test_a_per_second_cron_fires_scheduled_on_a_running_serve(tmp_path: Path):
    srv = Server(tmp_path, WORKERS, shards=2)
    try:
        wait_for(lambda: srv.events("cron running"), 15, "the cron process running", srv)
        wait_for(lambda: len(srv.events("cron fired")) >= 3, 15, "three firings", srv)
        fired = srv.events("cron fired")
        assert all(e["ok"] and e["worker"] == "tick" and e["cron"] == "* * * * * *" for e in fired)
        times = [e["scheduled_time"] for e in fired]
        assert all(t % 1000 == 0 for t in times) and len(set(times)) == len(times)
        assert abs(times[-1] / 1000 - time.time()) < 5
        wait_for(lambda: len(ticks(srv)) >= 3, 5, "the handler's console lines", srv)
        got = ticks(srv)
        assert {t["cron"] for t in got} == {"* * * * * *"} and {t["type"] for t in got} == {"scheduled"}
        assert {t["at"] for t in got} <= set(times)
        console = [e for e in srv.events("console") if e.get("text", "").startswith("tick ")]
        assert {e["tenant"] for e in console} == {"acme"}  # the worker.toml tenant: its shard
        import urllib.request

        metrics = urllib.request.urlopen(srv.http + "/metrics", timeout=10).read().decode()
        assert 'shardrun_cron_firings_total{outcome="completed",worker="tick"}' in metrics
        skipped = [e for e in srv.events("cron: worker skipped") if e["worker"] == "broken"]
        assert skipped and skipped[0]["code"] == "E_WORKER_CONFIG" and "triggers.crons.0" in skipped[0]["error"]
    finally:
        srv.close()
    assert srv.events("cron stopped")


def test_cron_can_be_turned_off(tmp_path: Path):
    srv = Server(tmp_path, WORKERS, shards=1, tables={"sources.cron": {"enabled": False}})
    try:
        time.sleep(2.5)
        assert not srv.events("cron running") and not srv.events("cron fired")
    finally:
        srv.close()


def test_two_nodes_on_postgres_run_each_firing_once(tmp_path: Path, db: Db):
    table = db.table + "_cron"
    cron = {"database_url": db.url, "table": table}
    nodes = []
    try:
        for name in ("a", "b"):
            (tmp_path / name).mkdir()
            nodes.append(Server(tmp_path / name, WORKERS, shards=1, http_enabled=False, tables={"sources.cron": cron}))
        for n in nodes:
            wait_for(lambda n=n: n.events("cron running"), 15, "the cron process running", n)
            assert n.events("cron running")[0]["claims"] == "postgres"
        claimed = lambda: int(db.val(f"SELECT count(*) FROM {table}"))  # noqa: E731
        base = claimed()  # (the first node fired alone while the second started)
        wait_for(lambda: claimed() >= base + 4, 20, "four firings with both nodes up", nodes[0])
    finally:
        for n in nodes:
            n.close()
    try:
        fired = [e["scheduled_time"] for n in nodes for e in n.events("cron fired")]
        assert len(fired) >= 5
        assert len(set(fired)) == len(fired)  # no firing ran on both nodes
        stopped = [n.events("cron stopped")[0] for n in nodes]
        assert sum(c.get("claimed", 0) for c in stopped) == len(fired)
        assert sum(c.get("lost", 0) for c in stopped) >= 1  # both nodes reached for the same firings
        handled = [t["at"] for n in nodes for t in ticks(n)]
        assert len(set(handled)) == len(handled)
        rows = db.fetch(f"SELECT node, status FROM {table}")
        assert len(rows) == len(fired) or len(rows) == len(fired) + 1  # (one may have been claimed at the stop)
        assert {r["status"] for r in rows} <= {"completed", "running"}
    finally:
        db.exec(f"DROP TABLE IF EXISTS {table}")


def test_a_cron_database_that_does_not_exist_is_a_boot_error(tmp_path: Path):
    from .conftest import run_cli
    from .queues import DATABASE_URL
    from .serve_helpers import free_port

    missing = DATABASE_URL.rsplit("/", 1)[0] + "/no_such_database_for_cron"
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        f'[serve]\nshards = 1\nworkers = "configs/workers"\nhttp_port = {free_port()}\n'
        f'client_endpoint = "ipc://{tmp_path}/c.ipc"\nruntime_dir = "{tmp_path}/run"\n'
        f'[sources.cron]\ndatabase_url = "{missing}"\n'
    )
    p = run_cli("serve", "--config", str(cfg), timeout=60)
    assert p.returncode == 3, p.stderr[-2000:]  # EXIT_BOOT_ERROR: the server stops instead of looping
    assert b"cron cannot start" in p.stderr and b"no_such_database_for_cron" in p.stderr
