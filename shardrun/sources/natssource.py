"""NATS as a task source: a core queue group (at most once, request-reply), or JetStream
(durable pull consumers: ack after completion, in-progress while running, nak with backoff,
dead letters after max deliveries).

Queues are subjects: queue Q arrives on `SUBJECT.Q`; the bare `SUBJECT` is the queue
`default` (the task executor publishes there). Core mode: every group subscribes to its
queues in the node's queue group (a wildcard group to `SUBJECT` and `SUBJECT.>`), so each
message goes to one node. JetStream: a work-queue stream over `SUBJECT` and `SUBJECT.>`
and one durable consumer per queue the node names in its workloops (plus `default`); a
wildcard group pulls from all of them, best first.

Failed and dead-lettered tasks are published to `SUBJECT_dead` (JetStream: kept in the
stream `<STREAM>_DEAD`) with the task, the error and the attempts.

JetStream redelivers a message whose ack was lost (a cut connection, a dead node) although
its task completed. So a completion is recorded first, once, in the key-value bucket
`<STREAM>_DONE` (key: the message's stream sequence, created only if absent, value: who
completed it and, up to 256 KiB, the reply); then the reply goes out and the message is acked.
A redelivered message that is already recorded is acked without running again (its recorded
reply is sent again, in case the first was lost), and a second run that finishes after the
first (two deliveries at once) finds the record and neither replies nor counts: each task's
completion is recorded exactly once (it may still *run* twice).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import uuid
from collections import deque
from typing import Any

import nats
import orjson
from nats.js.api import AckPolicy, ConsumerConfig, KeyValueConfig, RetentionPolicy, StreamConfig

from shardrun.errors import UsageError
from shardrun.settings import NatsSourceSettings, PayloadSettings
from shardrun.sources.runner import Claim, Runner
from shardrun.sources.tasks import Outcome, TaskPolicies, Verdict, parse_message
from shardrun.sources.workloops import DEFAULT_QUEUE, Group, named_queues

log = logging.getLogger("shardrun.source")

WAIT_S = 0.25  # a claim waits this long for a first message before the loop looks again
DONE_TTL_S = 7 * 86400  # how long completion records are kept (longer than any redelivery)
DONE_REPLY_MAX = 256 << 10  # replies up to this size are kept with the record, to be sent again
PEEK_S = 0.02  # fetch timeout for a queue that is not the group's last resort


class NatsSource:
    """The Source half of a NATS queue (see runner.Source)."""

    name = "nats"

    def __init__(self, cfg: NatsSourceSettings, payload: PayloadSettings, policies: TaskPolicies | None = None) -> None:
        assert cfg.url
        self.cfg = cfg
        self.policies = policies or TaskPolicies(None)
        self.payload = payload
        self.dead_subject = f"{cfg.subject}_dead"
        self.extend_every = max(0.5, cfg.ack_wait_s / 3)
        self.nc: Any = None
        self.js: Any = None
        self.groups: list[Group] = []
        self.pulls: dict[str, Any] = {}  # JetStream: queue -> pull subscription
        self.local: dict[str, deque[Claim]] = {}  # core: queue -> messages received, not claimed
        self.arrived = asyncio.Event()
        self.seq = itertools.count(1)
        self.done: Any = None  # JetStream: the completion records (key-value)
        self.me = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.suppressed = 0

    def subject_of(self, queue: str) -> str:
        return self.cfg.subject if queue == DEFAULT_QUEUE else f"{self.cfg.subject}.{queue}"

    def queue_of(self, subject: str) -> str:
        return DEFAULT_QUEUE if subject == self.cfg.subject else subject[len(self.cfg.subject) + 1 :]

    async def start(self, runner: Runner) -> None:
        self.groups = runner.groups
        assert self.cfg.url is not None  # a NATS source exists only with a url
        self.nc = await nats.connect(
            self.cfg.url,
            name="shardrun",
            max_reconnect_attempts=-1,
            reconnect_time_wait=0.5,
            connect_timeout=5,
            error_cb=_log_error,
            disconnected_cb=_log_event("disconnected"),
            reconnected_cb=_log_event("reconnected"),
        )
        if self.cfg.jetstream:
            await self._start_jetstream()
        else:
            await self._start_core(runner)

    async def _start_core(self, runner: Runner) -> None:
        subjects: set[str] = set()
        for g in self.groups:
            subjects.update(self.subject_of(q) for q in g.queues)
            if g.wildcard:
                subjects.update({self.cfg.subject, f"{self.cfg.subject}.>"})
        if f"{self.cfg.subject}.>" in subjects:  # one wildcard subscription covers the named queues
            subjects = {self.cfg.subject, f"{self.cfg.subject}.>"}

        async def on_message(msg: Any) -> None:
            queue = self.queue_of(msg.subject)
            self.local.setdefault(queue, deque()).append(self._claim(msg, queue, next(self.seq), 1))
            self.arrived.set()
            runner.poke()

        for s in sorted(subjects):
            await self.nc.subscribe(
                s, queue=self.cfg.group, cb=on_message, pending_msgs_limit=-1, pending_bytes_limit=-1
            )

    async def _start_jetstream(self) -> None:
        self.js = self.nc.jetstream()
        await _ensure_stream(
            self.js,
            StreamConfig(
                name=self.cfg.stream,
                subjects=[self.cfg.subject, f"{self.cfg.subject}.>"],
                retention=RetentionPolicy.WORK_QUEUE,
            ),
        )
        await _ensure_stream(self.js, StreamConfig(name=f"{self.cfg.stream}_DEAD", subjects=[self.dead_subject]))
        bucket = f"{self.cfg.stream}_DONE"
        try:
            self.done = await self.js.key_value(bucket)
        except nats.js.errors.BucketNotFoundError:
            self.done = await self.js.create_key_value(KeyValueConfig(bucket=bucket, history=1, ttl=DONE_TTL_S))
        for q in named_queues(self.groups):
            durable = f"{self.cfg.durable}_{q}"
            config = ConsumerConfig(
                durable_name=durable,
                ack_policy=AckPolicy.EXPLICIT,
                ack_wait=self.cfg.ack_wait_s,
                filter_subject=self.subject_of(q),
                max_ack_pending=-1,
            )
            self.pulls[q] = await self.js.pull_subscribe(
                self.subject_of(q), durable=durable, stream=self.cfg.stream, config=config
            )

    async def close(self) -> None:
        if self.suppressed:
            log.info("nats: %d redelivered tasks were already completed: acked, not run again", self.suppressed)
        if self.nc is not None and not self.nc.is_closed:
            try:
                await self.nc.flush(timeout=2)  # the last acks and replies go out first
            except Exception as exc:
                log.warning("nats: could not flush before closing: %s", exc)
            await self.nc.close()

    def _claim(self, msg: Any, queue: str, key: Any, attempt: int) -> Claim:
        claim = Claim(str(key), attempt, None, None, msg, self.cfg.max_deliver, self.cfg.retry_delay_ms)
        try:
            task = parse_message(
                msg.data, max_bytes=self.payload.max_bytes, max_depth=self.payload.max_depth, queue=queue
            )
        except UsageError as exc:
            claim.bad = Outcome(Verdict.FAILED, None, exc.code, exc.message)
            return claim
        policy = self.policies.of(task.worker)
        claim.task = self.policies.apply(task, policy)
        claim.max_attempts, claim.retry_delay_ms = (
            policy.attempts(self.cfg.max_deliver),
            policy.delay_ms(self.cfg.retry_delay_ms),
        )
        return claim

    # ---- claim -----------------------------------------------------------------------
    def _order(self, group: Group, queues: list[str]) -> list[str]:
        return sorted((q for q in queues if group.accepts(q)), key=group.rank)

    async def claim(self, group: Group, n: int) -> list[Claim]:
        if self.cfg.jetstream:
            return await self._claim_jetstream(group, n)
        got = self._take_local(group, n)
        if not got:
            self.arrived.clear()
            try:
                await asyncio.wait_for(self.arrived.wait(), WAIT_S)
            except TimeoutError:
                pass
            got = self._take_local(group, n)
        return got

    def _take_local(self, group: Group, n: int) -> list[Claim]:
        got: list[Claim] = []
        for q in self._order(group, list(self.local)):
            waiting = self.local[q]
            while waiting and len(got) < n:
                got.append(waiting.popleft())
        return got

    async def _claim_jetstream(self, group: Group, n: int) -> list[Claim]:
        # Messages a fetch delivered beyond what it asked for (a late reply to an earlier,
        # timed-out fetch) wait in self.local: they are ours already, so they go first.
        got = self._take_local(group, n)
        order = self._order(group, list(self.pulls))
        for i, q in enumerate(order):
            if len(got) >= n:
                break
            last = i == len(order) - 1
            try:
                msgs = await self.pulls[q].fetch(batch=n - len(got), timeout=WAIT_S if last and not got else PEEK_S)
            except nats.errors.TimeoutError:
                continue
            for m in msgs:
                md = m.metadata
                record = await self._recorded(md.sequence.stream) if md.num_delivered > 1 else None
                if record is not None:  # completed before; its ack (and maybe its reply) was lost
                    if "reply" in record:
                        await self._reply(m, record["reply"])
                    await m.ack()
                    self.suppressed += 1
                    continue
                claim = self._claim(m, q, f"{self.cfg.stream}:{md.sequence.stream}", md.num_delivered)
                if md.num_delivered > claim.max_attempts:  # its runs keep dying without an answer
                    claim.bad = Outcome(
                        Verdict.RETRY, None, "E_LEASE_EXPIRED", f"delivered {md.num_delivered} times without an answer"
                    )
                if len(got) < n:
                    got.append(claim)
                else:
                    self.local.setdefault(q, deque()).append(claim)
        return got

    # ---- finish ----------------------------------------------------------------------
    async def finish(self, claim: Claim, outcome: Outcome) -> str:
        msg = claim.handle
        if outcome.verdict is Verdict.COMPLETED:
            reply = {"ok": True, "value": outcome.value}
            if self.cfg.jetstream and not await self._record(msg.metadata.sequence.stream, claim.attempt, reply):
                await msg.ack()  # another delivery of it completed first
                self.suppressed += 1
                return "stale"
            await self._reply(msg, reply)
            if self.cfg.jetstream:
                await msg.ack()
            return "completed"
        if outcome.verdict is Verdict.RETRY and claim.attempt < claim.max_attempts:
            delay = min(claim.retry_delay_ms * 2 ** (claim.attempt - 1), self.cfg.retry_max_ms) / 1000
            if self.cfg.jetstream:
                await msg.nak(delay=delay)
            else:  # core NATS does not redeliver: this node retries it itself
                retry = self._claim(
                    msg, claim.task.queue if claim.task else DEFAULT_QUEUE, claim.key, claim.attempt + 1
                )
                asyncio.get_running_loop().call_later(delay, self._requeue, retry)
            return "retry"
        status = "failed" if outcome.verdict is Verdict.FAILED else "dead"
        error = {"code": outcome.code, "message": outcome.message}
        dead = {
            "status": status,
            "subject": msg.subject,
            "attempts": claim.attempt,
            "error": error,
            "task": _as_json(msg.data),
        }
        if self.cfg.jetstream:
            await self.js.publish(self.dead_subject, orjson.dumps(dead))
        else:
            await self.nc.publish(self.dead_subject, orjson.dumps(dead))
        await self._reply(msg, {"ok": False, "error": error, "status": status})
        if self.cfg.jetstream:
            await msg.ack()
        return status

    async def _recorded(self, seq: int) -> dict[str, Any] | None:
        try:
            record: dict[str, Any] = orjson.loads((await self.done.get(str(seq))).value)
            return record
        except nats.js.errors.KeyNotFoundError:
            return None

    async def _record(self, seq: int, attempt: int, reply: dict[str, Any]) -> bool:
        """Record this delivery as the one that completed the task; False if another one did."""
        mine = f"{self.me}:{attempt}"
        body = orjson.dumps({"by": mine, "reply": reply})
        try:
            await self.done.create(str(seq), body if len(body) <= DONE_REPLY_MAX else orjson.dumps({"by": mine}))
            return True
        except nats.js.errors.KeyWrongLastSequenceError:
            rec = await self._recorded(seq)
            return rec is not None and rec.get("by") == mine  # (our own earlier try, whose answer was lost)

    def _requeue(self, claim: Claim) -> None:
        queue = claim.task.queue if claim.task else DEFAULT_QUEUE
        self.local.setdefault(queue, deque()).append(claim)
        self.arrived.set()

    async def _reply(self, msg: Any, body: dict[str, Any]) -> None:
        to = msg.reply if not self.cfg.jetstream else (msg.headers or {}).get("Reply-To")
        if to:
            await self.nc.publish(to, orjson.dumps(body))

    async def extend(self, claims: list[Claim]) -> list[Claim]:
        if self.cfg.jetstream:  # the running ones, and those fetched but not started yet
            for c in [*claims, *(c for waiting in self.local.values() for c in waiting)]:
                await c.handle.in_progress()
        return []


def _as_json(data: bytes) -> Any:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return data.decode("utf-8", "replace")


async def remove_streams(js: Any, stream: str) -> None:
    """Delete what a JetStream source made for `stream`: the stream, its dead letters, its completion records."""
    for name in (stream, f"{stream}_DEAD", f"KV_{stream}_DONE"):
        try:
            await js.delete_stream(name)
        except nats.js.errors.NotFoundError:
            pass


async def _ensure_stream(js: Any, config: StreamConfig) -> None:
    try:
        await js.stream_info(config.name)
    except nats.js.errors.NotFoundError:
        await js.add_stream(config)


async def _log_error(exc: Exception) -> None:
    log.warning("nats: %s: %s", type(exc).__name__, exc)


def _log_event(what: str) -> Any:
    async def cb() -> None:
        log.warning("nats: %s", what)

    return cb
