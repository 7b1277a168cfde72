"""OpenTelemetry traces against a real OTLP/HTTP receiver on loopback (protobuf decoded here)."""

from __future__ import annotations

import http.client
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from shardrun import tracing
from shardrun.settings import TelemetrySettings
from tests.serve_helpers import Server, free_port

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT = "00f067aa0ba902b7"


class Collector:
    """An OTLP/HTTP trace receiver: every span it was sent, flattened."""

    def __init__(self) -> None:
        self.spans: list[dict[str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                data = self.rfile.read(int(self.headers["Content-Length"]))
                req = ExportTraceServiceRequest()
                req.ParseFromString(data)
                for rs in req.resource_spans:
                    res = {a.key: _value(a.value) for a in rs.resource.attributes}
                    for ss in rs.scope_spans:
                        for s in ss.spans:
                            outer.spans.append(
                                {
                                    "name": s.name,
                                    "trace": s.trace_id.hex(),
                                    "id": s.span_id.hex(),
                                    "parent": s.parent_span_id.hex(),
                                    "attrs": {a.key: _value(a.value) for a in s.attributes},
                                    "error": s.status.code == 2,
                                    "role": res.get("shardrun.role"),
                                    "service": res.get("service.name"),
                                }
                            )
                body = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, pred: Any, timeout: float = 15.0) -> list[dict[str, Any]]:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if pred(self.spans):
                return self.spans
            time.sleep(0.1)
        raise AssertionError(f"spans never arrived: {self.spans}")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _value(v: Any) -> Any:
    return getattr(v, v.WhichOneof("value")) if v.WhichOneof("value") else None


WORKERS = {
    "front.js": """export default { async fetch(request) {
        const r = await fetch("https://back.workers.localhost/x?token=secret");
        return new Response("front+" + await r.text());
    } }""",
    "back.js": "export default { fetch() { return new Response('back') } }",
    "boom.js": "export default { fetch() { throw new Error('boom') } }",
}


@pytest.fixture
def collector():
    c = Collector()
    yield c
    c.close()


def get(server: Server, host: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", server.http_port, timeout=10)
    try:
        conn.request("GET", "/p", headers={"Host": host, **(headers or {})})
        resp = conn.getresponse()
        return resp.status, resp.read().decode()
    finally:
        conn.close()


def telemetry(endpoint: str) -> dict[str, Any]:
    return {"telemetry": {"enabled": True, "endpoint": endpoint, "export_interval_s": 0.1, "export_timeout_s": 1}}


@pytest.mark.slow
def test_a_request_and_its_worker_to_worker_fetch_make_one_trace(tmp_path, collector):
    with_server = Server(tmp_path, WORKERS, shards=2, tables=telemetry(collector.url))
    try:
        status, body = get(with_server, "front.workers.localhost", {"traceparent": f"00-{TRACE}-{PARENT}-01"})
        assert (status, body) == (200, "front+back")
        spans = collector.wait(lambda s: sum(x["name"] == "shardrun.run" for x in s) >= 2)
    finally:
        with_server.close()
    assert {s["trace"] for s in spans} == {TRACE}, spans  # all in the client's trace
    by_id = {s["id"]: s for s in spans}
    front = next(s for s in spans if s["name"] == "shardrun.request" and s["attrs"]["shardrun.worker"] == "front")
    assert front["parent"] == PARENT and front["role"] == "router" and front["service"] == "shardrun"
    assert front["attrs"]["http.response.status_code"] == 200
    assert front["attrs"]["shardrun.tenant"] == "front" and front["attrs"]["shardrun.route"] == "http"
    assert front["attrs"]["http.request.method"] == "GET" and front["attrs"]["url.path"] == "/p"
    run = next(s for s in spans if s["name"] == "shardrun.run" and s["parent"] == front["id"])
    assert run["role"] == "shard" and run["attrs"]["shardrun.cache"] == "cold"
    assert run["attrs"]["shardrun.queue_wait_ms"] >= 0 and run["attrs"]["shardrun.cpu_ms"] > 0
    sub = next(s for s in spans if s["name"] == "fetch")
    assert sub["parent"] == run["id"] and sub["attrs"]["shardrun.callee"] == "back"
    assert sub["attrs"]["url.full"] == "https://back.workers.localhost/x"  # no query: it may hold secrets
    assert sub["attrs"]["http.response.status_code"] == 200
    back = next(s for s in spans if s["name"] == "shardrun.request" and s["attrs"]["shardrun.worker"] == "back")
    assert back["parent"] == sub["id"] and back["attrs"]["shardrun.route"] == "zmq"
    back_run = next(s for s in spans if s["name"] == "shardrun.run" and s["parent"] == back["id"])
    assert by_id[back_run["parent"]] is back
    assert not any(s["error"] for s in spans)


@pytest.mark.slow
def test_errors_are_marked_and_malformed_trace_context_starts_a_new_trace(tmp_path, collector):
    server = Server(tmp_path, WORKERS, shards=1, tables=telemetry(collector.url))
    bad = [
        f"00-{TRACE.upper()}-{PARENT}-01",  # upper case hex
        f"00-{TRACE}-{PARENT}-01\r\nx-injected: 1",  # http.client refuses CR/LF: sent without
        "00-" + "0" * 32 + f"-{PARENT}-01",  # all-zero trace id
        f"ff-{TRACE}-{PARENT}-01",  # version ff is invalid
        "x" * 5000,
    ]
    try:
        assert get(server, "boom.workers.localhost")[0] == 500
        for tp in bad:
            try:
                status = get(server, "back.workers.localhost", {"traceparent": tp, "tracestate": "a=" + "b" * 600})[0]
            except ValueError:  # the client library refused the header itself
                continue
            assert status == 200
        spans = collector.wait(lambda s: sum(x["name"] == "shardrun.request" for x in s) >= 5)
    finally:
        server.close()
    boom = next(s for s in spans if s["name"] == "shardrun.request" and s["attrs"]["shardrun.worker"] == "boom")
    assert boom["error"] and boom["attrs"]["shardrun.error_code"] == "E_SCRIPT"
    boom_run = next(s for s in spans if s["name"] == "shardrun.run" and s["parent"] == boom["id"])
    assert boom_run["error"] and boom_run["attrs"]["shardrun.error_code"] == "E_SCRIPT"
    for s in spans:
        if s["name"] == "shardrun.request" and s["attrs"]["shardrun.worker"] == "back":
            assert s["trace"] != TRACE and s["parent"] == ""  # a root span of its own trace


@pytest.mark.slow
def test_a_collector_that_is_away_costs_no_request_and_the_drops_are_counted(tmp_path):
    server = Server(tmp_path, WORKERS, shards=1, tables=telemetry(f"http://127.0.0.1:{free_port()}"))
    try:
        for _ in range(20):
            assert get(server, "back.workers.localhost") == (200, "back")
        end = time.monotonic() + 15
        dropped = 0.0
        while time.monotonic() < end and dropped < 20:
            text = _metrics(server)
            dropped = sum(
                float(line.split()[-1])
                for line in text.splitlines()
                if line.startswith("shardrun_trace_spans_dropped_total")
            )
            time.sleep(0.2)
        assert dropped >= 20, dropped  # 20 router spans at least (and the shards' own)
    finally:
        server.close()


def _metrics(server: Server) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", server.http_port, timeout=10)
    try:
        conn.request("GET", "/metrics")
        return conn.getresponse().read().decode()
    finally:
        conn.close()


class BlockedExporter(SpanExporter):
    def __init__(self) -> None:
        self.release = threading.Event()
        self.got = 0

    def export(self, spans: Any) -> SpanExportResult:
        self.release.wait(10)
        self.got += len(spans)
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        pass


def test_a_full_queue_drops_spans_instead_of_blocking_the_request_path():
    from shardrun.tracing.otel import BoundedBatchProcessor

    exporter = BlockedExporter()
    proc = BoundedBatchProcessor(exporter, queue_size=10, batch_size=5, interval_s=0.01)
    tracer = TracerProvider()
    tracer.add_span_processor(proc)
    t = tracer.get_tracer("t")
    t.start_span("first").end()
    time.sleep(0.2)  # the export thread takes the first span and blocks in export()
    for i in range(100):
        t.start_span(f"s{i}").end()
    assert len(proc.queue) == 10 and proc.dropped == 90  # on_end returned at once for every span
    exporter.release.set()
    proc.shutdown()  # joins the export thread, then sends what is left
    assert exporter.got == 11 and proc.exported == 11


def test_trace_context_from_clients_is_checked():
    good = f"00-{TRACE}-{PARENT}-01"
    assert tracing.clean_context(good, "a=1,b=2") == {"traceparent": good, "tracestate": "a=1,b=2"}
    assert tracing.clean_context(good, "a=\r\n") == {"traceparent": good}
    assert tracing.clean_context(good, "x" * 513) == {"traceparent": good}
    for bad in (None, 42, "", good.upper(), good + "-00", good.replace("-", "_"), "x" * 60, [good]):
        assert tracing.clean_context(bad, "a=1") == {}
    assert tracing.shown_url("https://u:p@h.example:8443/a/b?token=s#f") == "https://h.example:8443/a/b"


def test_traces_are_off_unless_enabled_or_the_standard_endpoint_is_set(monkeypatch):
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", raising=False)
    assert not tracing.enabled_by(TelemetrySettings())
    assert tracing.enabled_by(TelemetrySettings(enabled=True))
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
    assert tracing.enabled_by(TelemetrySettings())
    assert not tracing.enabled_by(TelemetrySettings(enabled=False))
