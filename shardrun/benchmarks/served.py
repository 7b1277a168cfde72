"""Process-level architectures: the same scenarios through a real `shardrun serve`.

`serve --mode oneshot` is the Worker's analogue (a fresh isolate per request), `--mode
shared` the shared pool's (any shard, per-shard caches) and `--mode pinned` the pinned
one's (tenant affinity). Every key of a scenario is its own worker (so its own tenant);
each benchmark thread has its own client, over ZeroMQ or over HTTP.
"""

from __future__ import annotations

import ctypes
import http.client
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import orjson

from shardrun.benchmarks.scenarios import Case, cases
from shardrun.benchmarks.scripts import CPU_HEAVY
from shardrun.client import Client
from shardrun.runtime.script import Script

MODES = ("oneshot", "shared", "pinned")


def free_port() -> int:
    """A TCP port on loopback that is free now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def worker_name(key: str, script: Script) -> str:
    return f"{key}-{'cpu' if script is CPU_HEAVY else 'simple'}"


def keys_of(case: Case, arch: str) -> list[str]:
    """Every key a scenario will use (its key schedule)."""
    if case.table == "real workers":
        prefix = "cpu" if case.id == "cpu_bound" else "worker"
        return [f"{prefix}-{i}" for i in range(case.keys)]
    if case.table == "multithread":
        return [f"{arch}-t{t}-w{w}" for t in range(case.threads) for w in range(case.keys)]
    return []


def case_workers(case_list: list[Case], mode: str) -> dict[str, str]:
    """A worker file (name -> source) for every key the cases will use."""
    files = {}
    for case in case_list:
        if case.script is not None:
            for key in keys_of(case, mode):
                files[worker_name(key, case.script)] = case.script.source
    return files


class Server:
    """A `shardrun serve` child for benchmarks, serving the given worker files; ready on return."""

    def __init__(
        self,
        mode: str,
        shards: int,
        workers: dict[str, str],
        client_endpoint: str | None = None,
        extra_toml: str = "",
        **serve: object,
    ) -> None:
        """`serve` overrides [serve] settings; `extra_toml` is appended (other tables, e.g. [limits])."""
        self.dir = Path(tempfile.mkdtemp(prefix="shardrun-bench-"))
        wdir = self.dir / "workers"
        wdir.mkdir()
        for name, source in workers.items():  # "name": name.js; "dir/file": that path (folders, worker.toml)
            path = wdir / (name if "/" in name else f"{name}.js")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(source)
        self.endpoint = client_endpoint or f"ipc://{self.dir}/client.ipc"
        self.http_port = free_port()
        opts: dict[str, object] = {
            "shards": shards,
            "mode": mode,
            "workers": str(wdir),
            "client_endpoint": self.endpoint,
            "http_port": self.http_port,
            "access_log": False,
            "tenant_max_concurrency": 100000,
            "max_queued": 100000,
            "max_inflight_per_shard": 1024,
            **serve,
        }
        lines = "".join(f"{k} = {orjson.dumps(v).decode()}\n" for k, v in opts.items())
        (self.dir / "shardrun.toml").write_text(f"[serve]\n{lines}{extra_toml}")
        self.log = open(self.dir / "serve.log", "wb")  # noqa: SIM115  (closed in close(): it outlives this method)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "shardrun", "serve", "--config", str(self.dir / "shardrun.toml")],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            preexec_fn=lambda: ctypes.CDLL(None).prctl(1, signal.SIGKILL),
        )
        with Client(self.endpoint, timeout=2) as c:
            end = time.monotonic() + 30
            while time.monotonic() < end:
                try:
                    if all(s["ready"] for s in c.status(timeout=0.5)["shards"]):
                        return
                except TimeoutError:
                    pass
                time.sleep(0.05)
        self.close()
        raise RuntimeError(f"the benchmark server did not start; see {self.dir / 'serve.log'}")

    def close(self) -> None:
        import shutil

        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 30 s); its directory and log stay."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if not self.log.closed:
            self.log.close()


class ServedArch:
    """One of the server's modes over one transport, with a client per thread."""

    def __init__(self, server: Server, transport: str) -> None:
        self.server = server
        self.transport = transport
        self.local = threading.local()
        self._clients: list[Any] = []
        self._lock = threading.Lock()

    def run(self, key: str, script: Script) -> object:
        name = worker_name(key, script)
        if self.transport == "zmq":
            c = getattr(self.local, "client", None)
            if c is None:
                c = self.local.client = Client(self.server.endpoint, timeout=60)
                with self._lock:
                    self._clients.append(c)
            return c.task(name).unwrap()
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = self.local.conn = http.client.HTTPConnection("127.0.0.1", self.server.http_port, timeout=60)
            with self._lock:
                self._clients.append(conn)
        conn.request("POST", f"/_shardrun/tasks/{name}", body=b"{}", headers={"content-type": "application/json"})
        r = conn.getresponse()
        body = r.read()
        if r.status != 200:
            raise RuntimeError(f"HTTP {r.status}: {body[:200]!r}")
        return body

    def close(self) -> None:
        for c in self._clients:
            c.close()


def served_cases(threads: int, scale: int) -> list[Case]:
    """The runtime scenarios (synthetic rows are raw-engine only)."""
    return [c for c in cases(threads, scale) if c.table != "synthetic"]
