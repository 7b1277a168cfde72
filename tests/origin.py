"""A local HTTP server on 127.0.0.1 for fetch() tests: the target of every worker fetch."""

from __future__ import annotations

import gzip
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


class Origin:
    def __init__(self) -> None:
        self.active = 0
        self.max_active = 0
        self.hits = 0
        self.lock = threading.Lock()
        origin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a: Any) -> None:
                pass

            def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                if "Transfer-Encoding" not in (headers or {}):
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def handle_one(self) -> None:
                with origin.lock:
                    origin.hits += 1
                self._route()

            def _route(self) -> None:
                u = urlsplit(self.path)
                q = {k: v[0] for k, v in parse_qs(u.query).items()}
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                if u.path == "/hello":
                    self._send(200, b"hello", {"Content-Type": "text/plain", "X-Test": "1"})
                elif u.path == "/echo":
                    self._send(
                        200,
                        json.dumps(
                            {
                                "method": self.command,
                                "headers": {k.lower(): v for k, v in self.headers.items()},
                                "body": body.decode("utf-8", "replace"),
                            }
                        ).encode(),
                        {"Content-Type": "application/json"},
                    )
                elif u.path == "/redirect":
                    self._send(int(q.get("code", 302)), b"", {"Location": q["to"]})
                elif u.path == "/slow":  # counts how many wait at once (until just before answering)
                    with origin.lock:
                        origin.active += 1
                        origin.max_active = max(origin.max_active, origin.active)
                    time.sleep(int(q.get("ms", 1000)) / 1000)
                    with origin.lock:
                        origin.active -= 1
                    self._send(200, b"slow")
                elif u.path == "/big":
                    data = b"x" * int(q["n"])
                    if q.get("chunked"):
                        self.send_response(200)
                        self.send_header("Transfer-Encoding", "chunked")
                        self.end_headers()
                        for i in range(0, len(data), 1000):
                            part = data[i : i + 1000]
                            self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                        self.wfile.write(b"0\r\n\r\n")
                    else:
                        self._send(200, data)
                elif u.path.startswith("/w/"):  # what `shardrun loadtest` asks for, chunked
                    self.send_response(200)
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    self.wfile.write(b"5\r\nHello\r\n6\r\n World\r\n0\r\n\r\n")
                elif u.path == "/gzip":
                    self._send(200, gzip.compress(b"unzipped " * 10), {"Content-Encoding": "gzip"})
                else:
                    self._send(404, b"not here")

            do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = handle_one

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.allow = f"127.0.0.1:{self.port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
