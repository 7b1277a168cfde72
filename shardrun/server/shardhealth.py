"""What a shard tells others about itself: its counters, its memory, and that it is stuck.

A mixin of Shard (shard.py), which provides the attributes declared here. Each heartbeat the
shard samples its RSS: over the soft ceiling it drops spares and cold isolates, over the hard
one it hands its slot to a replacement (the router and the supervisor are told) and drains.
The watchdog thread calls `_stuck` when JS will not yield: the router learns which request
it was, then the process exits.
"""

from __future__ import annotations

import logging
import os
import time
from typing import TYPE_CHECKING, Any

import zmq

from shardrun import protocol
from shardrun.runtime.calls import Call
from shardrun.server.metrics import rss_bytes
from shardrun.server.procs import EXIT_STUCK, trim_heap

if TYPE_CHECKING:
    from shardrun.bindings.host import BindingHost
    from shardrun.runtime.isolate import Prepared, WorkerIsolate
    from shardrun.server.cache import IsolateCache, RssCeilings
    from shardrun.server.metrics import ShardMetrics
    from shardrun.server.procs import HeartbeatFile
    from shardrun.server.shard import ShardPlace
    from shardrun.server.turns import RunQueues
    from shardrun.settings import ServeSettings

log = logging.getLogger("shardrun.shard")


class ShardHealth:
    """Counters, heartbeats and memory ceilings of a Shard."""

    place: ShardPlace
    serve: ServeSettings
    cache: IsolateCache
    ceilings: RssCeilings
    wakes: dict[WorkerIsolate, float | None]
    runq: RunQueues
    spares: list[Prepared]
    sock: Any
    metrics: ShardMetrics
    binding_host: BindingHost
    beat: HeartbeatFile
    draining: float | None
    rss: int
    next_hb: float
    served: int
    errors: int
    rejections: int
    bad_frames: int

    def stats(self) -> dict[str, Any]:
        c = self.cache.stats
        return {
            "shard": self.place.slot,
            "pid": os.getpid(),
            "gen": self.place.gen,
            "inflight": sum(len(i.inflight) for i in self.wakes),
            "waiting": self.runq.waiting,
            "cached": len(self.cache),
            "cache_bytes": self.cache.bytes,
            "rss_bytes": self.rss,
            "cpu_s": round(time.process_time(), 3),  # this process's CPU seconds, every thread
            "hits": c.hits,
            "misses": c.misses,
            "evictions": c.evictions,
            "retired": c.retired,
            "served": self.served,
            "errors": self.errors,
            "rejections": self.rejections,
            "bad_frames": self.bad_frames,
            "spares": len(self.spares),
        }

    def _heartbeat(self, now: float) -> None:
        """Counters to the router (the supervisor's file is the heartbeat thread's); memory checks."""
        self.next_hb = now + self.serve.heartbeat_ms / 1000
        self.rss = rss_bytes()
        self._check_memory()
        st = self.stats()
        if self.draining is None:  # a heartbeat would make the router send it requests again
            self.sock.send_multipart(protocol.encode_heartbeat(**st))
        self.metrics.publish(st["hits"], st["misses"], st["evictions"], st["cached"], self.rss)
        self.metrics.publish_bindings(self.binding_host.counts)

    def _memory_short(self) -> bool:
        return bool(self.ceilings.soft) and self.rss > self.ceilings.soft

    def _check_memory(self) -> None:
        """Over the hard ceiling: hand the slot over. Over the soft one: drop spares and cold isolates."""
        mb = self.rss >> 20
        if self.ceilings.hard and self.rss > self.ceilings.hard and self.draining is None:
            log.warning(
                "shard %d RSS %d MB is over its hard ceiling of %d MB: handing its slot to a replacement",
                self.place.slot,
                mb,
                self.ceilings.hard >> 20,
            )
            self.draining = time.monotonic()
            self.beat.mark_draining()  # the supervisor starts the replacement now
            self.sock.send_multipart(
                protocol.encode(
                    protocol.DISCONNECT,
                    {
                        "reason": "memory",
                        "id": None,
                        "shard": self.place.slot,
                        "pid": os.getpid(),
                        "message": f"the shard's RSS of {mb} MB is over its ceiling; it is being replaced",
                    },
                )
            )
        elif self._memory_short():
            for p in self.spares:
                p.iso.close()
            self.spares.clear()
            gone = self.cache.evict_cold()
            # Freed isolates stay in malloc's free lists: give them back, so the next RSS sample
            # sees the live set and the next check does not evict again for memory already free.
            trim_heap()
            self.rss = rss_bytes()
            log.info(
                "shard %d RSS %d MB is over its soft ceiling of %d MB: evicted %d cold isolates",
                self.place.slot,
                mb,
                self.ceilings.soft >> 20,
                len(gone),
            )

    def _stuck(self, call: Call) -> None:
        """Watchdog thread: JS will not yield. Tell the router which request, then exit."""
        try:
            # A context of its own: closing it waits until the message is out (up to the
            # linger), which the main context, with the stuck thread's socket, never would.
            ctx = zmq.Context()
            s = ctx.socket(zmq.DEALER)
            s.setsockopt(zmq.LINGER, 1000)
            s.connect(self.place.backend)
            s.send_multipart(
                protocol.encode(
                    protocol.DISCONNECT,
                    {
                        "reason": "cpu",
                        "id": call.tag.rid,
                        "shard": self.place.slot,
                        "pid": os.getpid(),
                        "message": f"the request used more than its CPU budget of {call.cpu_budget * 1000:g} ms in code "
                        "the engine could not interrupt; its shard was replaced",
                    },
                )
            )
            s.close()
            ctx.term()
        finally:
            os._exit(EXIT_STUCK)
