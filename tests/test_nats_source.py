"""NATS task source end to end: real nodes against the real nats-server (core and JetStream)."""

from __future__ import annotations

import asyncio
import signal
import uuid
from pathlib import Path
from typing import Any

import nats
import orjson
import pytest
from nats.js.api import StreamConfig

from shardrun.sources.natssource import remove_streams

from .queues import NATS_URL
from .serve_helpers import Server

WORKERS = {
    "ok.js": "export default { task(p) { return { n: p.n }; } };",
    "slow.js": "export default { async task(p) { await new Promise(r => setTimeout(r, p.ms)); return { n: p.n }; } };",
    "boom.js": "export default { task(p) { throw new Error('poison ' + p.n); } };",
}


@pytest.fixture
def subject() -> Any:
    name = f"t{uuid.uuid4().hex[:10]}"
    yield name

    async def cleanup() -> None:
        nc = await nats.connect(NATS_URL)
        await remove_streams(nc.jetstream(), f"S_{name}")
        await nc.close()

    asyncio.run(cleanup())


def node(tmp: Path, subject: str, *, jetstream: bool = False, **nats_cfg: Any) -> Server:
    tmp.mkdir(exist_ok=True)
    cfg = {
        "url": NATS_URL,
        "subject": subject,
        "group": f"g_{subject}",
        "jetstream": jetstream,
        "stream": f"S_{subject}",
        "durable": "d",
        "retry_delay_ms": 50,
        **nats_cfg,
    }
    return Server(tmp, WORKERS, shards=2, http_enabled=False, sources={"capacity": 4, "nats": cfg})


def completed(servers: list[Server]) -> list[int]:
    return [s.events("task source stopped")[0].get("completed", 0) for s in servers]


async def requests(subject: str, bodies: list[dict[str, Any]], timeout: float = 20) -> list[dict[str, Any]]:
    nc = await nats.connect(NATS_URL)
    try:
        replies = await asyncio.gather(*(nc.request(subject, orjson.dumps(b), timeout=timeout) for b in bodies))
        return [orjson.loads(r.data) for r in replies]
    finally:
        await nc.close()


def test_core_request_reply_and_bad_messages(tmp_path: Path, subject: str) -> None:
    s = node(tmp_path, subject)

    async def go() -> tuple[list[dict[str, Any]], dict[str, Any], list[dict[str, Any]]]:
        nc = await nats.connect(NATS_URL)
        dead = await nc.subscribe(f"{subject}_dead")
        ok = await requests(
            subject,
            [
                {"script": "ok.js", "payload": {"n": 1}},
                {"worker": "ok", "payload": {"n": 2}},
                {"worker": "ok", "payload": {"n": 3}, "tenant": "acme"},
            ],
        )
        bad = [
            orjson.loads((await nc.request(subject, body, timeout=10)).data)
            for body in (b"not json", b'{"worker": "nope"}', b'{"worker": "ok", "extra": 1}', b"[1]")
        ]
        first_dead = orjson.loads((await dead.next_msg(timeout=5)).data)
        await nc.close()
        return ok + bad, first_dead, bad

    try:
        replies, first_dead, bad = asyncio.run(go())
        assert [r["value"] for r in replies[:3]] == [{"n": 1}, {"n": 2}, {"n": 3}]
        assert [r["error"]["code"] for r in bad] == ["E_BAD_JSON", "E_NOT_FOUND", "E_BAD_REQUEST", "E_BAD_REQUEST"]
        assert all(r["ok"] is False and r["status"] == "failed" for r in bad)
        assert first_dead["status"] == "failed" and first_dead["error"]["code"] == "E_BAD_JSON"
        assert first_dead["task"] == "not json" and first_dead["subject"] == subject
    finally:
        s.close()


def test_two_core_nodes_in_a_queue_group_run_each_task_once(tmp_path: Path, subject: str) -> None:
    a, b = node(tmp_path / "a", subject), node(tmp_path / "b", subject)
    try:
        n = 200
        replies = asyncio.run(requests(subject, [{"worker": "slow", "payload": {"n": i, "ms": 10}} for i in range(n)]))
        assert sorted(r["value"]["n"] for r in replies) == list(range(n))
    finally:
        a.close()
        b.close()
    per_node = completed([a, b])
    assert sum(per_node) == n and min(per_node) > 0  # shared, and no task ran on both


def _js_publish(subject: str, bodies: list[dict[str, Any]], reply_to: str) -> None:
    async def go() -> None:
        nc = await nats.connect(NATS_URL)
        js = nc.jetstream()
        for b in bodies:
            await js.publish(subject, orjson.dumps(b), headers={"Reply-To": reply_to})
        await nc.close()

    asyncio.run(go())


async def _collect(reply_to: str, n: int, timeout: float) -> list[dict[str, Any]]:
    nc = await nats.connect(NATS_URL)
    sub = await nc.subscribe(reply_to)
    out = []
    try:
        for _ in range(n):
            out.append(orjson.loads((await sub.next_msg(timeout=timeout)).data))
    finally:
        await nc.close()
    return out


def test_jetstream_acks_after_completion_and_dead_letters_poison(tmp_path: Path, subject: str) -> None:
    s = node(tmp_path, subject, jetstream=True, max_deliver=2)
    inbox = f"r_{subject}"

    async def go() -> tuple[list[dict[str, Any]], int, list[dict[str, Any]]]:
        collector = asyncio.create_task(_collect(inbox, 51, 20))
        await asyncio.sleep(0.2)
        await asyncio.to_thread(
            _js_publish,
            subject,
            [{"worker": "ok", "payload": {"n": i}} for i in range(50)] + [{"worker": "boom", "payload": {"n": 7}}],
            inbox,
        )
        results = await collector
        nc = await nats.connect(NATS_URL)
        js = nc.jetstream()
        for _ in range(100):  # the last acks follow the last replies
            left = (await js.stream_info(f"S_{subject}")).state.messages
            if left == 0:
                break
            await asyncio.sleep(0.05)
        dead_sub = await js.pull_subscribe(f"{subject}_dead", durable="check", stream=f"S_{subject}_DEAD")
        dead = [orjson.loads(m.data) for m in await dead_sub.fetch(1, timeout=5)]
        await nc.close()
        return results, left, dead

    try:
        results, left, dead = asyncio.run(go())
        assert sorted(r["value"]["n"] for r in results if r["ok"]) == list(range(50))
        assert left == 0  # every message acked, the poison one after its dead letter
        assert dead[0]["status"] == "dead" and dead[0]["attempts"] == 2 and "poison 7" in dead[0]["error"]["message"]
    finally:
        s.close()


def test_jetstream_redelivers_after_a_crash(tmp_path: Path, subject: str) -> None:
    inbox = f"r_{subject}"
    a = node(tmp_path / "a", subject, jetstream=True, ack_wait_s=2)

    async def go() -> list[dict[str, Any]]:
        collector = asyncio.create_task(_collect(inbox, 1, 30))
        await asyncio.sleep(0.2)
        await asyncio.to_thread(_js_publish, subject, [{"worker": "slow", "payload": {"n": 1, "ms": 1500}}], inbox)
        await asyncio.to_thread(_wait_for_ack_pending, subject)
        a.stop(signal.SIGKILL)  # the whole node dies mid-task: no ack, no reply
        b = node(tmp_path / "b", subject, jetstream=True, ack_wait_s=2)
        try:
            return await collector
        finally:
            b.close()

    try:
        (result,) = asyncio.run(go())
        assert result == {"ok": True, "value": {"n": 1}}
    finally:
        a.close()


def _wait_for_ack_pending(subject: str) -> None:
    async def go() -> None:
        nc = await nats.connect(NATS_URL)
        js = nc.jetstream()
        for _ in range(100):
            info = await js.consumer_info(f"S_{subject}", "d_default")
            if info.num_ack_pending == 1:
                await nc.close()
                return
            await asyncio.sleep(0.05)
        await nc.close()
        raise AssertionError("the task was never claimed")

    asyncio.run(go())


def test_listen_refuses_a_bad_subject() -> None:
    from .conftest import run_cli

    r = run_cli("listen", "--nats", NATS_URL, "--subject", "bad subject!", "--shards", "1")
    assert r.returncode == 2 and b"subject" in r.stderr


def test_streams_are_made_once(subject: str) -> None:
    from shardrun.sources.natssource import _ensure_stream

    async def go() -> list[str]:
        nc = await nats.connect(NATS_URL)
        js = nc.jetstream()
        cfg = StreamConfig(name=f"S_{subject}", subjects=[subject])
        await _ensure_stream(js, cfg)
        await _ensure_stream(js, cfg)
        names = [s.config.name for s in await js.streams_info()]
        await nc.close()
        return names

    assert asyncio.run(go()).count(f"S_{subject}") == 1


def test_jetstream_survives_a_cut_connection(tmp_path: Path, subject: str) -> None:
    from shardrun.benchmarks.faultproxy import TcpProxy

    proxy = TcpProxy("127.0.0.1", int(NATS_URL.rsplit(":", 1)[1]))
    inbox = f"r_{subject}"
    n = 100
    s = node(tmp_path, subject, jetstream=True, ack_wait_s=2, url=f"nats://127.0.0.1:{proxy.port}")

    async def go() -> list[dict[str, Any]]:
        nc = await nats.connect(NATS_URL)
        sub = await nc.subscribe(inbox)
        await asyncio.to_thread(
            _js_publish, subject, [{"worker": "slow", "payload": {"n": i, "ms": 20}} for i in range(n)], inbox
        )
        seen: dict[int, dict[str, Any]] = {}
        cut = False
        while len(seen) < n:
            r = orjson.loads((await sub.next_msg(timeout=30)).data)
            seen[r["value"]["n"]] = r
            if len(seen) >= 20 and not cut:
                assert proxy.cut() >= 1  # mid-run: the node loses NATS, reconnects, carries on
                cut = True
        for _ in range(100):  # the last acks follow the last replies
            left = (await nc.jetstream().stream_info(f"S_{subject}")).state.messages
            if left == 0:
                break
            await asyncio.sleep(0.05)
        await nc.close()
        assert left == 0
        return list(seen.values())

    try:
        results = asyncio.run(go())
        assert len(results) == n and all(r["ok"] for r in results)
    finally:
        s.close()
        proxy.close()


def test_jetstream_records_each_completion_once(subject: str) -> None:
    """A redelivery of a task that already completed (its ack was lost) is acked without running,
    and its recorded reply is sent again; a second delivery finishing later records nothing."""
    from shardrun.settings import NatsSourceSettings, PayloadSettings
    from shardrun.sources.natssource import NatsSource
    from shardrun.sources.workloops import parse

    cfg = NatsSourceSettings(
        url=NATS_URL, subject=subject, jetstream=True, stream=f"S_{subject}", durable="d", ack_wait_s=30
    )

    class Loops:
        groups = parse("*:4")

    async def go() -> tuple[list[Any], list[Any], bool, bool, bool, dict[str, Any], int]:
        a, b = NatsSource(cfg, PayloadSettings()), NatsSource(cfg, PayloadSettings())
        await a.start(Loops)  # type: ignore[arg-type]
        await b.start(Loops)  # type: ignore[arg-type]
        nc = await nats.connect(NATS_URL)
        inbox = await nc.subscribe(f"r_{subject}")
        await nc.jetstream().publish(subject, b'{"worker": "w"}', headers={"Reply-To": f"r_{subject}"})
        (first,) = await a.claim(Loops.groups[0], 4)
        seq = first.handle.metadata.sequence.stream
        recorded = await a._record(seq, first.attempt, {"ok": True, "value": 1})
        again = await a._record(seq, first.attempt, {"ok": True, "value": 1})  # its own retry: still its
        other = await b._record(seq, 2, {"ok": True, "value": 2})  # another delivery: not
        await first.handle.nak()  # as if the ack was lost
        redelivered = await a.claim(Loops.groups[0], 4)
        resent = orjson.loads((await inbox.next_msg(timeout=5)).data)
        left = 1
        for _ in range(50):
            left = (await nc.jetstream().stream_info(f"S_{subject}")).state.messages
            if not left:
                break
            await asyncio.sleep(0.05)
        for s in (a, b):
            await s.close()
        await nc.close()
        return [first], redelivered, recorded, again, other, resent, left

    _, redelivered, recorded, again, other, resent, left = asyncio.run(go())
    assert (recorded, again, other) == (True, True, False)
    assert redelivered == [] and resent == {"ok": True, "value": 1} and left == 0
