"""The front door's own endpoints, under /_shardrun/ (and /metrics), on the main port or the admin port.

    POST /_shardrun/tasks/<worker>     a task: JSON payload in, the task's JSON result out
    GET  /_shardrun/health             200 when every shard is ready, else 503 (also while draining)
    GET  /_shardrun/stats              the router's counters and per-shard state (JSON)
    GET  /metrics                      Prometheus text (all processes, multiprocess mode)

A mixin of FrontDoor (frontdoor.py), which provides the attributes declared here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from shardrun.errors import ShardrunError
from shardrun.runtime.jsonin import parse_payload
from shardrun.server import metrics
from shardrun.server.http import HttpLimits, IncomingRequest
from shardrun.server.httpreplies import JSON

ADMIN = "/_shardrun/"


class AdminEndpoints:
    """The admin paths of a FrontDoor."""

    limits: HttpLimits
    payload_depth: int
    status: Callable[[], dict[str, Any]]
    _call: Callable[..., None]  # FrontDoor._call: a request to a worker (here, a task)

    def _admin(self, req: IncomingRequest, rid: str, what: str) -> None:
        if what.startswith("tasks/") and req.method == "POST":
            worker = what[len("tasks/") :]
            payload = parse_payload(
                req.body or b"null", max_depth=self.payload_depth, max_bytes=self.limits.max_body_bytes
            )
            return self._call(req, rid, worker, "task", payload)
        if what == "health" and req.method in ("GET", "HEAD"):
            st = self.status()
            draining = bool(st.get("draining"))
            ready = not draining and all(s["ready"] for s in st["shards"])
            body = orjson.dumps(
                {
                    "ready": ready,
                    "draining": draining,
                    "shards": [{"slot": s["slot"], "ready": s["ready"]} for s in st["shards"]],
                }
            )
            return req.conn.respond(req.seq, 200 if ready else 503, [*JSON, ("x-request-id", rid)], body)
        if what == "stats" and req.method in ("GET", "HEAD"):
            return req.conn.respond(req.seq, 200, [*JSON, ("x-request-id", rid)], orjson.dumps(self.status()))
        if what == "metrics" and req.method in ("GET", "HEAD"):
            st = self.status()
            metrics.INFLIGHT.set(st["pending"])
            metrics.QUEUED.set(st["queued"])
            metrics.RSS.labels("router").set(metrics.rss_bytes())
            metrics.TALLY.flush()
            return req.conn.respond(
                req.seq, 200, [("content-type", "text/plain; version=0.0.4; charset=utf-8")], metrics.render()
            )
        raise ShardrunError(f"no admin endpoint {req.method} {ADMIN}{what}", code="E_NOT_FOUND")
