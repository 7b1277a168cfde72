"""Fair turns in a shard: requests read but not started wait in per-tenant run queues.

A JS turn cannot be preempted (the engine runs it up to its CPU budget), so a shard shares
turns instead of time. `RunQueues.take` hands out one request per tenant at a time,
round-robin; a tenant that had nothing waiting goes next (a light tenant is not queued
behind a heavy one's backlog), and the shard reads its socket again between turns, so a
request that arrives while a CPU-heavy tenant runs is started before that tenant's next.
A tenant has at most `max_running` requests started and not finished (the setting
`tenant_max_running`); the rest wait in its queue until one finishes.

The rule this gives: a request waits for about one turn (at most one CPU budget) of each
other tenant with work queued, not for every request of one tenant. Later turns of started
requests (timers, fetch results) are bounded by the running cap. No sockets here.
"""

from __future__ import annotations

from collections import Counter, deque

from shardrun import protocol


class RunQueues:
    """Requests read but not started, per tenant, handed out round-robin (no sockets here)."""

    def __init__(self, max_running: int) -> None:
        self.max_running = max_running
        self.queues: dict[str, deque[protocol.Message]] = {}
        self.order: deque[str] = deque()  # tenants that may start one now, next first
        self.blocked: set[str] = set()  # tenants with a queue at their running cap
        self.running: Counter[str] = Counter()
        self.waiting = 0

    def put(self, tenant: str, msg: protocol.Message) -> None:
        q = self.queues.get(tenant)
        if q is None:
            q = self.queues[tenant] = deque()
            if self.running[tenant] >= self.max_running:
                self.blocked.add(tenant)
            else:
                self.order.appendleft(tenant)  # it had nothing waiting: its turn is next
        q.append(msg)
        self.waiting += 1

    def take(self) -> tuple[str, protocol.Message] | None:
        """The next tenant's oldest request, counted as running (call `finished` for it)."""
        if not self.order:
            return None
        tenant = self.order.popleft()
        q = self.queues[tenant]
        msg = q.popleft()
        self.waiting -= 1
        self.running[tenant] += 1
        if not q:
            del self.queues[tenant]
        elif self.running[tenant] >= self.max_running:
            self.blocked.add(tenant)
        else:
            self.order.append(tenant)
        return tenant, msg

    def finished(self, tenant: str) -> None:
        self.running[tenant] -= 1
        if self.running[tenant] <= 0:
            del self.running[tenant]
        if tenant in self.blocked and self.running[tenant] < self.max_running:
            self.blocked.discard(tenant)
            self.order.append(tenant)
