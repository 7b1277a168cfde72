"""Start a real `shardrun serve` for a test, wait until it is ready, always stop it."""

from __future__ import annotations

import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from shardrun.client import Client

ROOT = Path(__file__).resolve().parent.parent


def _die_with_parent() -> None:
    """In the child: if the test process dies, so does the server (and, through it, its children)."""
    ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(map(toml_value, v)) + "]"
    return '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'


def connect(server: Server) -> socket.socket:
    """A client TCP connection to the server's HTTP port (Nagle off: each send goes at once)."""
    c = socket.create_connection(("127.0.0.1", server.http_port), timeout=10)
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return c


class _Exited(AssertionError):
    """The server process ended before it was ready."""


class Server:
    """A running `shardrun serve` child process."""

    def __init__(
        self,
        tmp: Path,
        workers: dict[str, str],
        *,
        shards: int = 2,
        limits: dict[str, Any] | None = None,
        sources: dict[str, Any] | None = None,
        tables: dict[str, dict[str, Any]] | None = None,
        **serve: Any,
    ) -> None:
        self.dir = tmp
        self.sources = sources or {}
        self.tables = tables or {}  # more tables of the settings file, e.g. {"egress": {"deny": [...]}}
        self.workers = tmp / "workers"
        self.workers.mkdir(exist_ok=True)
        for name, src in workers.items():
            if "/" in name:
                (self.workers / name).parent.mkdir(parents=True, exist_ok=True)
            (self.workers / name).write_text(src)
        self.log = open(tmp / "serve.log", "wb")  # noqa: SIM115  (closed in close())
        for attempt in range(3):  # a port picked free can be taken before the server binds it
            self._start(tmp, shards, limits, serve)
            try:
                self.wait_ready()
                return
            except _Exited:
                self.client.close()
                if attempt == 2:
                    self.log.close()
                    raise
            except BaseException:
                self.close()
                raise

    def _start(self, tmp: Path, shards: int, limits: dict[str, Any] | None, serve: dict[str, Any]) -> None:
        self.endpoint = f"tcp://127.0.0.1:{free_port()}"
        self.http_port = free_port()
        self.http = f"http://127.0.0.1:{self.http_port}"
        opts = {
            "shards": shards,
            "workers": str(self.workers),
            "client_endpoint": self.endpoint,
            "runtime_dir": str(tmp / "run"),
            "heartbeat_ms": 100,
            "http_port": self.http_port,
            **serve,
        }
        lines = ["[serve]"] + [f"{k} = {toml_value(v)}" for k, v in opts.items()]
        if limits:
            lines += ["[limits]"] + [f"{k} = {toml_value(v)}" for k, v in limits.items()]
        flat = {k: v for k, v in self.sources.items() if not isinstance(v, dict)}
        lines += ["[sources]"] + [f"{k} = {toml_value(v)}" for k, v in flat.items()]
        for name, table in self.sources.items():
            if isinstance(table, dict):
                lines += [f"[sources.{name}]"] + [f"{k} = {toml_value(v)}" for k, v in table.items()]
        for name, table in self.tables.items():
            lines += [f"[{name}]"] + [f"{k} = {toml_value(v)}" for k, v in table.items()]
        self.config = tmp / "shardrun.toml"
        self.config.write_text("\n".join(lines) + "\n")
        env = {k: v for k, v in os.environ.items() if not k.startswith("SHARDRUN_")}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "shardrun", "serve", "--config", str(self.config)],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            env=env,
            preexec_fn=_die_with_parent,
        )
        self.client = Client(self.endpoint, timeout=30)

    def wait_ready(self, timeout: float = 20.0) -> dict[str, Any]:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise _Exited(f"serve exited: {self.logs()}")
            try:
                st = self.client.status(timeout=0.5)
            except TimeoutError:
                continue
            sources = sum(1 for v in self.sources.values() if isinstance(v, dict))
            if (
                all(s["ready"] and s.get("pid") for s in st["shards"])
                and len(self.events("task source running")) >= sources
            ):
                return st
            time.sleep(0.05)
        raise AssertionError(f"server not ready within {timeout}s: {self.logs()}")

    def status(self) -> dict[str, Any]:
        return self.client.status(timeout=5)

    def shard_pids(self) -> list[int]:
        return [s["pid"] for s in self.status()["shards"]]

    def logs(self) -> str:
        self.log.flush()
        return (self.dir / "serve.log").read_text(errors="replace")[-4000:]

    def events(self, name: str) -> list[dict[str, Any]]:
        """The JSON log lines whose event is `name`."""
        if not self.log.closed:
            self.log.flush()
        out = []
        for line in (self.dir / "serve.log").read_text(errors="replace").splitlines():
            if line.startswith("{") and f'"{name}"' in line:
                rec = json.loads(line)
                if rec.get("event") == name:
                    out.append(rec)
        return out

    def pids(self, title: str) -> list[int]:
        """Child processes of this server whose title starts with `title` (e.g. "shardrun: source")."""
        import psutil

        def titled(p: psutil.Process) -> bool:
            try:
                return " ".join(p.cmdline()).startswith(title)
            except psutil.Error:  # gone, or a zombie, since children() listed it
                return False

        return [p.pid for p in psutil.Process(self.proc.pid).children(recursive=True) if titled(p)]

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(5)

    def close(self) -> None:
        self.client.close()
        self.stop()
        self.log.close()
