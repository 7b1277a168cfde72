"""The OpenTelemetry side of shardrun's traces (the `otel` extra): imported only when traces are on."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from typing import Any

from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, set_span_in_context
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from shardrun.server import metrics

log = logging.getLogger("shardrun.tracing")


class Tracer:
    """One process's tracer: spans out through a bounded, non-blocking batch queue."""

    SERVER, CLIENT, INTERNAL = SpanKind.SERVER, SpanKind.CLIENT, SpanKind.INTERNAL

    def __init__(self, settings: Any, role: str, exporter: SpanExporter | None = None) -> None:
        if exporter is None:
            endpoint = settings.endpoint
            if endpoint and not endpoint.rstrip("/").endswith("/v1/traces"):
                endpoint = endpoint.rstrip("/") + "/v1/traces"
            exporter = OTLPSpanExporter(endpoint=endpoint, timeout=settings.export_timeout_s)
        attrs: dict[str, str | int] = {"shardrun.role": role, "process.pid": os.getpid()}
        if not os.environ.get("OTEL_SERVICE_NAME"):
            attrs["service.name"] = settings.service_name
        self.provider = TracerProvider(resource=Resource.create(attrs))
        self.processor = BoundedBatchProcessor(
            exporter, settings.queue_size, settings.batch_size, settings.export_interval_s
        )
        self.provider.add_span_processor(self.processor)
        self.tracer = self.provider.get_tracer("shardrun")
        self._prop = TraceContextTextMapPropagator()

    def start(self, name: str, carrier: dict[str, str] | None, kind: SpanKind, attributes: dict[str, Any]) -> Span:
        """A started span, the child of the context in `carrier` (a new trace without one)."""
        ctx = self._prop.extract(carrier) if carrier else None
        return self.tracer.start_span(name, context=ctx, kind=kind, attributes=attributes)

    def child(self, parent: Span, name: str, kind: SpanKind, attributes: dict[str, Any]) -> Span:
        """A started span under `parent` (a span of this process)."""
        return self.tracer.start_span(name, context=set_span_in_context(parent), kind=kind, attributes=attributes)

    def carrier(self, span: Span) -> dict[str, str]:
        """The traceparent (and tracestate) that make a span the parent of the next hop."""
        out: dict[str, str] = {}
        self._prop.inject(out, context=set_span_in_context(span))
        return out

    def end(self, span: Span, error_code: str | None = None, message: str = "", **attributes: Any) -> None:
        """End a span, marking it failed with a shardrun error code when there is one."""
        for k, v in attributes.items():
            if v is not None:
                span.set_attribute(k, v)
        if error_code:
            span.set_attribute("shardrun.error_code", error_code)
            span.set_status(Status(StatusCode.ERROR, f"{error_code}: {message}"[:200]))
        span.end()

    def shutdown(self, timeout_s: float = 2.0) -> None:
        """Send what is queued (within the timeout) and stop the export thread."""
        self.processor.shutdown_within(timeout_s)


class BoundedBatchProcessor(SpanProcessor):
    """A span processor whose on_end never blocks: a bounded queue and an export thread.

    The thread starts with the first span (after the fork, in the process that ends spans)."""

    def __init__(self, exporter: SpanExporter, queue_size: int, batch_size: int, interval_s: float) -> None:
        self.exporter = exporter
        self.queue: deque[ReadableSpan] = deque()
        self.queue_size = queue_size
        self.batch_size = batch_size
        self.interval_s = interval_s
        self.dropped = 0
        self.exported = 0
        self._wake = threading.Event()
        self._stop = False
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        pass

    def on_end(self, span: ReadableSpan) -> None:
        if self._stop:
            return
        if len(self.queue) >= self.queue_size:
            self._drop(1)
            return
        self.queue.append(span)
        if self._thread is None:
            self._start_thread()
        if len(self.queue) >= self.batch_size:
            self._wake.set()

    def _start_thread(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="shardrun-trace-export", daemon=True)
                self._thread.start()

    def _drop(self, n: int) -> None:
        self.dropped += n
        metrics.TRACE_SPANS_DROPPED.inc(n)

    def _run(self) -> None:
        while not self._stop:
            self._wake.wait(self.interval_s)
            self._wake.clear()
            self._export_all()

    def _export_all(self, deadline: float | None = None) -> None:
        while self.queue and (deadline is None or time.monotonic() < deadline):
            batch: list[ReadableSpan] = []
            while self.queue and len(batch) < self.batch_size:
                batch.append(self.queue.popleft())
            try:
                ok = self.exporter.export(batch) == SpanExportResult.SUCCESS
            except Exception as exc:  # the collector is away or broken: drop the batch, keep going
                log.debug("trace export failed: %s", exc)
                ok = False
            if ok:
                self.exported += len(batch)
            else:
                self._drop(len(batch))

    def shutdown(self) -> None:
        self.shutdown_within(2.0)

    def shutdown_within(self, timeout_s: float) -> None:
        self._stop = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
        self._export_all(time.monotonic() + timeout_s)
        try:
            self.exporter.shutdown()
        except Exception as exc:
            log.debug("trace exporter shutdown failed: %s", exc)

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        self._export_all(time.monotonic() + timeout_millis / 1000)
        return not self.queue
