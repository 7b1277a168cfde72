"""The router's routing table in-process: admission, queues, accounting (no sockets)."""

from __future__ import annotations

import time

import orjson
import pytest

from shardrun import protocol
from shardrun.server.routing import shard_for
from shardrun.server.table import RoutingTable
from shardrun.settings import load_settings


@pytest.fixture
def table(tmp_path):
    (tmp_path / "a.js").write_text("export default { task() {} }")
    (tmp_path / "b.js").write_text("export default { task() {} }")

    def make(**serve):
        t = RoutingTable(load_settings(None, serve={"workers": str(tmp_path), "shards": 2, **serve}))
        for s in t.shards:  # both shards connected
            t.on_alive(b"shard-%d-1" % s.slot, protocol.decode(protocol.encode_ready(s.slot, 1, 0)))
        return t

    return make


def submit(t, cid, worker="a", client=b"c1", **extra):
    raw = protocol.request_body(cid, worker, "task", {}, **extra)
    t.accept(client, protocol.decode_body(protocol.REQUEST, raw), raw)


def replies(t, client=b"c1"):
    return [orjson.loads(b) for b in t.client_out.pop(client, [])]


def answer(t, p, ok=True):
    t.on_reply(p.sent_to, protocol.reply_body(p.rid, ok, 1))


def test_requests_go_to_the_tenants_shard_and_replies_back_with_the_clients_id(table):
    t = table()
    submit(t, 41)
    slot = shard_for("a", 2)
    (p,) = t.shard_out[slot]
    assert p.sent_to == b"shard-%d-1" % slot and orjson.loads(p.body)["id"] == p.rid
    answer(t, p)
    assert replies(t) == [{"id": 41, "ok": True, "value": 1}]
    assert t.counts["accepted"] == t.counts["answered"] == 1 and not t.pending


def test_queue_cap_and_wait_timeout_give_overloaded(table):
    t = table(
        max_inflight_per_shard=1, max_queued=2, wait_timeout_ms=100, tenant_max_concurrency=100, tenant_max_share=1
    )
    for i in range(5):
        submit(t, i)
    codes = [r["error"]["code"] for r in replies(t)]
    assert codes == ["E_OVERLOADED", "E_OVERLOADED"]  # 1 running, 2 queued, 2 refused at once
    assert t.queued == 2
    t.expire(time.monotonic() + 1)  # the queued ones waited too long
    assert [r["error"]["code"] for r in replies(t)] == ["E_OVERLOADED"] * 2
    assert t.queued == 0 and len(t.pending) == 1


def test_tenant_limit(table):
    t = table(tenant_max_concurrency=2)
    for i in range(3):
        submit(t, i)
    assert [r["error"]["code"] for r in replies(t)] == ["E_TENANT_LIMIT"]
    submit(t, 9, worker="b")  # another tenant is not affected
    assert not replies(t)


def test_a_dead_shard_fails_exactly_its_requests(table):
    t = table()
    submit(t, 1, worker="a")
    submit(t, 2, worker="b")
    slot_a = shard_for("a", 2)
    t.shard_lost(slot_a, 1, "killed by SIGKILL")
    got = replies(t)
    if shard_for("b", 2) == slot_a:
        assert sorted(r["id"] for r in got) == [1, 2]
    else:
        assert [r["id"] for r in got] == [1] and got[0]["error"]["code"] == "E_SHARD_LOST"
    assert not t.shards[slot_a].ready and t.shards[slot_a].restarts == 1
    assert t.counts["accepted"] == t.counts["answered"] + t.counts["failed"] + len(t.pending)


def test_an_idempotent_workers_request_is_sent_once_more_after_its_shard_dies(table, tmp_path):
    t = table()
    (tmp_path / "idem").mkdir()
    (tmp_path / "idem" / "index.js").write_text("export default { task() {} }")
    (tmp_path / "idem" / "worker.toml").write_text('tenant = "a"\nidempotent = true\n')
    submit(t, 1, worker="idem")
    submit(t, 2, worker="a")
    slot = shard_for("a", 2)
    t.shard_lost(slot, 1, "killed by SIGKILL")
    got = replies(t)
    assert [r["id"] for r in got] == [2] and got[0]["error"]["code"] == "E_SHARD_LOST"  # only the other one
    t.shard_out.clear()
    t.on_alive(b"shard-%d-2" % slot, protocol.decode(protocol.encode_ready(slot, 2, 0)))
    (p,) = t.shard_out[slot]
    assert p.sent_to == b"shard-%d-2" % slot and t.counts["retried"] == 1
    t.shard_lost(slot, 2, "killed again")  # it had its one retry
    assert [r["error"]["code"] for r in replies(t)] == ["E_SHARD_LOST"]
    assert t.counts["accepted"] == t.counts["answered"] + t.counts["failed"] + len(t.pending)


def test_a_busy_shards_queue_serves_higher_priorities_first(table, tmp_path):
    t = table(max_inflight_per_shard=1)
    (tmp_path / "urgent").mkdir()
    (tmp_path / "urgent" / "index.js").write_text("export default { task() {} }")
    (tmp_path / "urgent" / "worker.toml").write_text('tenant = "a"\n[task]\npriority = 5\n')
    slot = shard_for("a", 2)
    submit(t, 1)  # runs
    submit(t, 2)  # waits, priority 0
    submit(t, 3, worker="urgent")  # the worker's priority 5
    submit(t, 4, priority=9)  # its own priority
    submit(t, 5, worker="urgent", priority=-1)  # its own priority wins over the worker's
    submit(t, 6, priority=1001)  # out of range
    assert [r["error"]["code"] for r in replies(t)] == ["E_BAD_REQUEST"]
    assert [t.pending[r].client_id for r in [p.rid for p in t.shards[slot].queue]] == [4, 3, 2, 5]
    for _ in range(4):  # each answer lets the next one in
        (p,) = t.shard_out.pop(slot)
        answer(t, p)
    assert [r["id"] for r in replies(t)] == [1, 4, 3, 2]


def test_requests_for_a_shard_that_is_down_wait_for_its_replacement(table):
    t = table()
    slot = shard_for("a", 2)
    t.shard_lost(slot, 1, "gone")
    t.shard_out.clear()
    submit(t, 5)
    assert not t.shard_out and t.queued == 1
    t.on_alive(b"shard-%d-2" % slot, protocol.decode(protocol.encode_ready(slot, 2, 0)))
    assert [p.sent_to for p in t.shard_out[slot]] == [b"shard-%d-2" % slot]


def test_bad_requests_and_unknown_workers_never_reach_a_shard(table):
    t = table()
    submit(t, 1, worker="nope")
    raw = b'{"id":2,"worker":"a","kind":"eval"}'
    t.accept(b"c1", protocol.decode_body(protocol.REQUEST, raw), raw)
    submit(t, 3, tenant="../evil")
    assert [r["error"]["code"] for r in replies(t)] == ["E_NOT_FOUND", "E_BAD_REQUEST", "E_BAD_REQUEST"]
    assert not t.shard_out and t.counts["accepted"] == 0


def test_a_late_reply_after_a_timeout_is_counted_not_forwarded(table):
    t = table()
    submit(t, 1)
    (p,) = t.shard_out[shard_for("a", 2)]
    t.fail(p, "E_SHARD_LOST", "test")
    replies(t)
    answer(t, p)
    assert not replies(t) and t.counts["late_replies"] == 1
