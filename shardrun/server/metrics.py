"""Prometheus metrics in multiprocess mode: each process writes its samples to files in one
directory (`PROMETHEUS_MULTIPROC_DIR`, set by the supervisor before it forks) and
`GET /metrics` merges them. Import this module only after that variable is set: the
client library picks its storage when it is first imported.
"""

from __future__ import annotations

import bisect
import math
import os
import resource
from collections.abc import Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess

HTTP_REQUESTS = Counter("shardrun_http_requests", "HTTP requests answered, by worker and status", ["worker", "status"])
HTTP_SECONDS = Histogram(
    "shardrun_http_request_seconds",
    "HTTP request latency at the front door",
    ["worker"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
INFLIGHT = Gauge("shardrun_requests_inflight", "requests accepted and not answered yet", multiprocess_mode="livesum")
QUEUED = Gauge("shardrun_requests_queued", "requests waiting for a shard", multiprocess_mode="livesum")
TRACE_SPANS_DROPPED = Counter(
    "shardrun_trace_spans_dropped", "spans not exported: the queue was full or the collector did not take them"
)
RESTARTS = Counter("shardrun_shard_restarts", "shard processes that died and were replaced", ["shard"])
CACHE_HITS = Counter("shardrun_cache_hits", "warm isolate reused", ["shard"])
CACHE_MISSES = Counter("shardrun_cache_misses", "no warm isolate: a new one was loaded", ["shard"])
CACHE_EVICTIONS = Counter("shardrun_cache_evictions", "isolates evicted by the LRU limits", ["shard"])
ISOLATES = Gauge(
    "shardrun_isolates_cached", "warm isolates in the shard caches", ["shard"], multiprocess_mode="livesum"
)
TASKS = Counter(
    "shardrun_tasks", "queued tasks finished by a task source, by source and outcome", ["source", "outcome"]
)
BINDING_CALLS = Counter(
    "shardrun_binding_calls",
    "env binding calls (KV, D1, queues) by tenant, binding, kind and outcome (ok or the error code)",
    ["tenant", "binding", "kind", "outcome"],
)
UNHANDLED_REJECTIONS = Counter(
    "shardrun_unhandled_rejections",
    "unhandled promise rejections in workers' JS (during requests and top levels), by tenant",
    ["tenant"],
)
CRON_FIRINGS = Counter(
    "shardrun_cron_firings",
    "cron firings by worker and outcome (completed, failed, skipped, lost: another node ran it)",
    ["worker", "outcome"],
)
RSS = Gauge(
    "shardrun_process_rss_bytes", "resident memory of each shardrun process", ["role"], multiprocess_mode="liveall"
)


def rss_bytes() -> int:
    """This process's resident set size."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:  # pragma: no cover - non-Linux
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class HttpTally:
    """The front door's request counts and latencies, kept in plain dicts as requests end and
    written to the (file-backed) metrics in one go per flush: a labelled child's inc() or
    observe() costs microseconds each, a dict update a fraction of one. The router flushes
    every tick and before it renders /metrics, so a scrape never misses what was counted."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str], int] = {}
        self.seconds: dict[str, list[float]] = {}
        self.deferred = 0  # flushes that could not write everything (kept for the next)

    def add(self, worker: str, status: int, elapsed: float) -> None:
        key = (worker, str(status))
        self.counts[key] = self.counts.get(key, 0) + 1
        seen = self.seconds.get(worker)
        if seen is None:
            self.seconds[worker] = [elapsed]
        else:
            seen.append(elapsed)

    def flush(self) -> None:
        """Write what was counted. A metrics file that cannot be opened (the process is out of
        descriptors) leaves the rest counted here for the next flush: never the router's end."""
        try:
            while self.counts:
                labels, n = next(iter(self.counts.items()))
                HTTP_REQUESTS.labels(*labels).inc(n)
                del self.counts[labels]
            while self.seconds:
                worker, values = next(iter(self.seconds.items()))
                observe_many(HTTP_SECONDS.labels(worker), values)
                del self.seconds[worker]
        except OSError:
            self.deferred += 1


def observe_many(child: object, values: list[float]) -> None:
    """Histogram observations in bulk: one increment per bucket touched and one of the sum,
    instead of one of each per value (the same totals as observe() of each)."""
    bounds = getattr(child, "_upper_bounds", None)
    buckets = getattr(child, "_buckets", None)
    total = getattr(child, "_sum", None)
    if bounds is None or buckets is None or total is None:  # another client library layout
        for v in values:
            child.observe(v)  # type: ignore[attr-defined]
        return
    per: dict[int, int] = {}
    for v in values:
        i = bisect.bisect_left(bounds, v)  # the first bound >= v, as observe() picks it
        per[i] = per.get(i, 0) + 1
    for i, n in per.items():
        if i < len(buckets):
            buckets[i].inc(n)
    total.inc(math.fsum(values))


TALLY = HttpTally()  # this process's (the router's: both its ports count into it)


def render() -> bytes:
    """The merged samples of every process, in the Prometheus text format."""
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return generate_latest(registry)


class ShardMetrics:
    """A shard's counters, published once per heartbeat (deltas of its own counters)."""

    def __init__(self, slot: int) -> None:
        self.label = str(slot)
        self.last = (0, 0, 0)
        self.binding_last: dict[tuple[str, str, str, str], int] = {}

    def publish(self, hits: int, misses: int, evictions: int, cached: int, rss: int) -> None:
        h0, m0, e0 = self.last
        CACHE_HITS.labels(self.label).inc(hits - h0)
        CACHE_MISSES.labels(self.label).inc(misses - m0)
        CACHE_EVICTIONS.labels(self.label).inc(evictions - e0)
        self.last = (hits, misses, evictions)
        ISOLATES.labels(self.label).set(cached)
        RSS.labels("shard").set(rss)

    def publish_bindings(self, counts: Mapping[tuple[str, str, str, str], int]) -> None:
        """Binding calls since the last heartbeat, per (tenant, binding, kind, outcome)."""
        for labels, n in counts.items():
            before = self.binding_last.get(labels, 0)
            if n > before:
                BINDING_CALLS.labels(*labels).inc(n - before)
                self.binding_last[labels] = n

    def rejections(self, tenant: str, n: int) -> None:
        """Unhandled promise rejections of one tenant's worker (counted as they happen)."""
        UNHANDLED_REJECTIONS.labels(tenant).inc(n)
