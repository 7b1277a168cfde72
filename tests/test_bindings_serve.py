"""env bindings in a real server: the bundled notes worker (KV + D1) on two shards."""

from __future__ import annotations

import http.client
import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from .queues import Db
from .serve_helpers import ROOT, Server

NOTES = ROOT / "configs" / "workers" / "notes"


@pytest.fixture
def server(tmp_path: Path) -> Any:
    s = Server(
        tmp_path,
        {"notes/index.js": (NOTES / "index.js").read_text(), "notes/worker.toml": (NOTES / "worker.toml").read_text()},
        tables={"bindings": {"data_dir": str(tmp_path / "data")}},
    )
    yield s
    s.close()


def test_the_notes_example_keeps_its_data(server: Server, tmp_path: Path) -> None:
    r = server.client.fetch("notes", "POST", "/", body=b"first note")
    assert r.ok, r.error
    assert r.value.status == 201 and orjson.loads(r.value.body) == {"id": 1}
    t = server.client.task("notes", {"text": "from a task"})
    assert t.ok, t.error
    r = server.client.fetch("notes", "GET", "/")
    out = orjson.loads(r.value.body)
    assert out["visits"] == 2 and [n["text"] for n in out["notes"]] == ["from a task", "first note"]
    assert (tmp_path / "data" / "kv.sqlite3").is_file() and list((tmp_path / "data" / "d1").glob("*/notes.sqlite3"))
    # its cron trigger's handler (what the cron source sends at each firing)
    at = 1_764_633_600_000
    s = server.client.call("notes", "scheduled", {"cron": "0 * * * *", "scheduledTime": at, "type": "scheduled"})
    assert s.ok, s.error
    out = orjson.loads(server.client.fetch("notes", "GET", "/").value.body)
    assert out["lastPrune"] == {"cron": "0 * * * *", "at": "2025-12-02T00:00:00.000Z", "removed": 0}
    assert len(out["notes"]) == 2


def test_binding_calls_are_counted_per_tenant_and_binding(server: Server) -> None:
    for _ in range(2):
        assert server.client.fetch("notes", "GET", "/").ok
    expect = {
        'shardrun_binding_calls_total{binding="KV",kind="kv",outcome="ok",tenant="notes"}': 6.0,  # visits get + put, last-prune get
        'shardrun_binding_calls_total{binding="DB",kind="d1",outcome="ok",tenant="notes"}': 4.0,  # exec + select
    }
    end = time.monotonic() + 10
    while True:  # shard counters are published with the heartbeat
        c = http.client.HTTPConnection("127.0.0.1", server.http_port, timeout=10)
        c.request("GET", "/metrics")
        text = c.getresponse().read().decode()
        c.close()
        got = {k: float(line.split()[-1]) for line in text.splitlines() for k in expect if line.startswith(k + " ")}
        if got == expect or time.monotonic() > end:
            break
        time.sleep(0.1)
    assert got == expect


def test_a_queue_producer_hands_work_to_another_workers_task_handler(tmp_path: Path, db: Db) -> None:
    producer = """export default { async task(p, env) {
      await env.JOBS.send({ to: p.to });
      await env.JOBS.sendBatch([{ body: { to: "b" } }, { body: { to: "c" } }]);
      return "queued";
    } };"""
    consumer = (
        "export default { async task(body, env) { await env.SEEN.put(body.to, '1'); return { sent: body.to }; } };"
    )
    s = Server(
        tmp_path,
        {
            "front/index.js": producer,
            "front/worker.toml": 'tenant = "acme"\n[[queues.producers]]\nbinding = "JOBS"\nqueue = "mailer"\n',
            "mailer/index.js": consumer,
            "mailer/worker.toml": 'tenant = "acme"\n[[kv_namespaces]]\nbinding = "SEEN"\nid = "seen"\n',
        },
        http_enabled=False,
        sources={"capacity": 2, "postgres": {"database_url": db.url, "table": db.table, "poll_ms": 100}},
        tables={"bindings": {"data_dir": str(tmp_path / "data")}},
    )
    try:
        r = s.client.task("front", {"to": "a"})
        assert r.ok and r.value == "queued", r.error
        db.wait_until(lambda: db.counts().get("completed", 0) == 3, 30, "the three messages ran")
        rows = db.fetch("SELECT script, queue, result::text AS r FROM {t} ORDER BY r")
        assert [(x["script"], x["queue"], x["r"]) for x in rows] == [
            ("mailer", "mailer", '{"sent": "a"}'),
            ("mailer", "mailer", '{"sent": "b"}'),
            ("mailer", "mailer", '{"sent": "c"}'),
        ]
    finally:
        s.close()
