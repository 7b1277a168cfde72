"""OpenTelemetry traces, optional (the `otel` extra) and off by default.

On when `[telemetry] enabled = true`, or when the standard `OTEL_EXPORTER_OTLP_ENDPOINT` /
`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is set and the settings do not say `enabled = false`.
Spans go to an OTLP/HTTP (protobuf) collector; `OTEL_SERVICE_NAME` names the service.

    shardrun.request   (router, SERVER)  one per request: route, tenant, worker, shard, status, error code
      shardrun.run     (shard, INTERNAL) the request in its shard: queue wait, cold start or cache hit, JS CPU
        fetch          (shard, CLIENT)   each subrequest: outside fetch or worker-to-worker

A client's W3C `traceparent` / `tracestate` (an HTTP header, or fields of a ZeroMQ request)
makes the router's span its child; the context travels to the shard in the request message
and out on every fetch and worker-to-worker call as a `traceparent` header. Values that are
not well-formed are ignored (a new trace starts), never passed on.

Export never blocks the request path: ending a span appends it to a bounded queue (O(1));
a thread of the process sends batches. When the queue is full or the collector does not
take a batch, the spans are dropped and counted (`shardrun_trace_spans_dropped_total`).
Each process (router, shard) sets up its own exporter after the fork: nothing of it exists in
the forking parent.
"""

from __future__ import annotations

import logging
import os
import re
from typing import Any

log = logging.getLogger("shardrun.tracing")

TRACEPARENT = re.compile(r"[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}")
TRACESTATE_MAX = 512  # W3C: at least 512 characters must be kept; we keep no more
TRACESTATE = re.compile(r"[\x20-\x7e]*")


def clean_context(traceparent: Any, tracestate: Any) -> dict[str, str]:
    """The trace-context carrier from untrusted values: only a well-formed traceparent (and a
    tracestate of printable ASCII within 512 characters, only beside it) is kept."""
    out: dict[str, str] = {}
    if isinstance(traceparent, str) and len(traceparent) <= 55 and TRACEPARENT.fullmatch(traceparent.strip()):
        out["traceparent"] = traceparent.strip()
        if isinstance(tracestate, str) and 0 < len(tracestate) <= TRACESTATE_MAX and TRACESTATE.fullmatch(tracestate):
            out["tracestate"] = tracestate
    return out


def shown_url(url: str) -> str:
    """A URL as a span may show it: no userinfo, query or fragment (they may hold secrets)."""
    from urllib.parse import urlsplit

    try:
        u = urlsplit(url)
        host = u.hostname or ""
        port = f":{u.port}" if u.port else ""
    except ValueError:
        return "?"
    return f"{u.scheme}://{host}{port}{u.path}"[:512]


def enabled_by(settings: Any) -> bool:
    """Whether traces are on for these telemetry settings and this environment."""
    if settings.enabled is not None:
        return bool(settings.enabled)
    return bool(os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))


def check(settings: Any) -> None:
    """At start (in the supervisor, before any fork): traces on without OpenTelemetry installed is a usage error."""
    import importlib.util

    from shardrun.errors import UsageError

    if enabled_by(settings.telemetry):
        for module in ("opentelemetry.sdk", "opentelemetry.exporter.otlp.proto.http"):
            try:
                found = importlib.util.find_spec(module) is not None
            except ModuleNotFoundError:
                found = False
            if not found:
                raise UsageError(
                    f"telemetry is on but {module} is not installed: pip install 'shardrun[otel]'", code="E_USAGE"
                )


def setup(settings: Any, role: str) -> Any:
    """This process's tracer (tracing.otel.Tracer), or None when traces are off. Call it after the fork."""
    tel = settings.telemetry
    if not enabled_by(tel):
        return None
    try:
        from shardrun.tracing.otel import Tracer

        tracer = Tracer(tel, role)
    except ImportError as exc:
        log.error("telemetry is on but OpenTelemetry is not installed (pip install 'shardrun[otel]'): %s", exc)
        return None
    log.info("traces on: %s spans to %s", role, tel.endpoint or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "?"))
    return tracer
