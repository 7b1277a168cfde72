"""shardrun over HTTP beside its peers, in one run: the same JSON hello, CPU loop and 5 ms timer.

    .venv/bin/python -m bench.peers_bench [--seconds 5] [--repeat 3] [--only hello,cpu] [--peers node1,shardrun]

Servers, one after the other, each on a free loopback port and loaded by the same wrk command
(`wrk -t2 -c64 -dS --latency`, Host `<scenario>.workers.localhost`):

    node1       node's http module, 1 process            (bench/peers/node_server.js)
    node2       the same, a cluster of 2
    workerd1    Cloudflare's workerd, 1 process           (bench/peers/workers/*.js, the `workerd` npm package)
    workerd2    2 workerd processes accepting on one listening socket
    uvicorn     uvicorn + httptools + uvloop calling a warm engine isolate, 1 process (bench/peers/asgi_app.py)
    shardrun    `shardrun serve --shards 2`, access log off, the same worker files (pinned: one
                tenant, so one shard runs it all)
    shardrun-shared  the same with `--mode shared` (any shard runs any request: for stateless workers)
    inprocess   no server: the same worker in 2 threads, each submitting to a warm isolate back to
                back (bench/inprocess_bench.py), the figure serve's overhead is measured against
                (hello and cpu only: one request at a time per thread says nothing of a 5 ms timer)

For each: req/s, p50 and p99 latency (wrk), and the server's CPU per request (CPU seconds of
its whole process tree during the load / requests). Median of --repeat runs. The ratios are
shardrun's req/s over each peer's. Needs wrk (Debian), node and `npm ci` in bench/peers (workerd),
uvicorn/httptools/uvloop (`pip install -e '.[bench]'`). The machine has 2 cores, shared by wrk:
compare ratios within one run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psutil

from shardrun.benchmarks.served import free_port

ROOT = Path(__file__).resolve().parent.parent
PEERS = ROOT / "bench" / "peers"
WORKERS = PEERS / "workers"
SCENARIOS = ("hello", "cpu", "timer")
ALL_PEERS = ("node1", "node2", "workerd1", "workerd2", "uvicorn", "shardrun", "shardrun-shared", "inprocess")
DOMAIN = "workers.localhost"


def wait_http(port: int, host: str, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    """Until the server answers 200 on / (bounded)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode} before answering")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(f"GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
                if s.recv(64).startswith(b"HTTP/1.1 200"):
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"no 200 from 127.0.0.1:{port} within {timeout:g}s")


def workerd_binary() -> str:
    out = subprocess.run(
        ["node", "-e", "import('workerd').then(m => console.log(m.default.default ?? m.default))"],
        cwd=PEERS,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    path = out.stdout.strip()
    if out.returncode != 0 or not path:
        raise RuntimeError("workerd is not installed: run `npm ci` in bench/peers")
    return path


def workerd_config(tmp: Path, scenario: str) -> Path:
    shutil.copy(WORKERS / f"{scenario}.js", tmp / "worker.js")
    cfg = tmp / "config.capnp"
    cfg.write_text(
        'using Workerd = import "/workerd/workerd.capnp";\n'
        "const config :Workerd.Config = (\n"
        '  services = [ (name = "main", worker = .w) ],\n'
        '  sockets = [ (name = "http", address = "127.0.0.1:0", http = (), service = "main") ],\n'
        ");\n"
        "const w :Workerd.Worker = (\n"
        '  modules = [ (name = "worker.js", esModule = embed "worker.js") ],\n'
        '  compatibilityDate = "2025-06-01",\n'
        ");\n"
    )
    return cfg


@contextmanager
def server(peer: str, scenario: str, tmp: Path) -> Any:
    """Start one peer serving one scenario; yields (port, the server's root pid); always stops it."""
    port = free_port()
    procs: list[subprocess.Popen[bytes]] = []
    listener: socket.socket | None = None
    log = open(tmp / f"{peer}-{scenario}.log", "wb")  # noqa: SIM115  (closed below)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHARDRUN_")}
    try:
        if peer in ("node1", "node2"):
            n = "2" if peer == "node2" else "1"
            procs.append(
                subprocess.Popen(
                    ["node", str(PEERS / "node_server.js"), str(port), scenario, n], stdout=log, stderr=log
                )
            )
        elif peer in ("workerd1", "workerd2"):
            binary, cfg = workerd_binary(), workerd_config(tmp, scenario)
            listener = socket.socket()
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(("127.0.0.1", port))
            listener.listen(1024)
            fd = listener.fileno()
            for _ in range(2 if peer == "workerd2" else 1):
                procs.append(
                    subprocess.Popen(
                        [binary, "serve", str(cfg), "--socket-fd", f"http={fd}"],
                        pass_fds=(fd,),
                        stdout=log,
                        stderr=log,
                    )
                )
        elif peer == "uvicorn":
            cmd = [sys.executable, "-m", "uvicorn", "--factory", "bench.peers.asgi_app:app"]
            cmd += ["--http", "httptools", "--loop", "uvloop", "--no-access-log", "--log-level", "warning"]
            cmd += ["--host", "127.0.0.1", "--port", str(port)]
            procs.append(subprocess.Popen(cmd, cwd=ROOT, env={**env, "SCENARIO": scenario}, stdout=log, stderr=log))
        elif peer in ("shardrun", "shardrun-shared"):
            mode = "shared" if peer == "shardrun-shared" else "pinned"
            wdir = tmp / "workers"
            wdir.mkdir(exist_ok=True)
            shutil.copy(WORKERS / f"{scenario}.js", wdir / f"{scenario}.js")
            cfg = tmp / f"shardrun-{scenario}.toml"
            cfg.write_text(
                f'[serve]\nshards = 2\nmode = "{mode}"\n'
                f'workers = "{wdir}"\nhttp_port = {port}\naccess_log = false\n'
                f'client_endpoint = "tcp://127.0.0.1:{free_port()}"\nruntime_dir = "{tmp / "run"}"\n'
            )
            cmd = [sys.executable, "-m", "shardrun", "serve", "--config", str(cfg)]
            procs.append(subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=log))
        else:
            raise ValueError(f"unknown peer {peer}")
        wait_http(port, f"{scenario}.{DOMAIN}", procs[0])
        yield port, [p.pid for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)
        if listener is not None:
            listener.close()
        log.close()


def tree_cpu(pids: list[int]) -> float:
    """CPU seconds (user + system) of these processes and all their children, now."""
    total = 0.0
    for pid in pids:
        try:
            root = psutil.Process(pid)
            for p in [root, *root.children(recursive=True)]:
                try:
                    t = p.cpu_times()
                    total += t.user + t.system
                except psutil.NoSuchProcess:
                    pass
        except psutil.NoSuchProcess:
            pass
    return total


_UNIT = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def parse_wrk(text: str) -> dict[str, float]:
    """req/s, p50 and p99 (ms), requests and errors from wrk --latency's output."""
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))  # type: ignore[union-attr]
    reqs = int(re.search(r"(\d+) requests in", text).group(1))  # type: ignore[union-attr]
    lat = {m[0]: float(m[1]) * _UNIT[m[2]] for m in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)}
    errors = sum(int(x) for x in re.findall(r"(?:connect|read|write|timeout) (\d+)", text))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    return {
        "rps": rps,
        "requests": reqs,
        "p50_ms": lat.get("50", float("nan")),
        "p99_ms": lat.get("99", float("nan")),
        "errors": errors + (int(non2xx.group(1)) if non2xx else 0),
    }


def expected(scenario: str) -> Any:
    """The JSON every server must answer (checked once before each load)."""
    if scenario == "hello":
        return {"path": f"/{scenario}/path"}
    if scenario == "cpu":
        x = 0
        for i in range(100000):
            x = (x + i * 7) % 1000003
        return {"x": x}
    return {"ok": True}


def check_answer(port: int, scenario: str) -> None:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", f"/{scenario}/path", headers={"Host": f"{scenario}.{DOMAIN}"})
        got = json.loads(conn.getresponse().read())
    finally:
        conn.close()
    if got != expected(scenario):
        raise RuntimeError(f"wrong answer: {got!r}, expected {expected(scenario)!r}")


def load(port: int, scenario: str, seconds: float, pids: list[int]) -> dict[str, float]:
    check_answer(port, scenario)
    url = f"http://127.0.0.1:{port}/{scenario}/path"
    host = f"Host: {scenario}.{DOMAIN}"
    warm = ["wrk", "-t2", "-c64", "-d1s", "-H", host, url]
    subprocess.run(warm, capture_output=True, timeout=30, check=True)
    time.sleep(1.0)  # what the warm-up left queued finishes before the CPU count starts
    cpu0 = tree_cpu(pids)
    cmd = ["wrk", "-t2", "-c64", f"-d{seconds:g}s", "--latency", "-H", host, url]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 30, check=True).stdout
    cpu = tree_cpu(pids) - cpu0
    r = parse_wrk(out)
    r["cpu_us_per_req"] = cpu / max(1, r["requests"]) * 1e6
    return r


def in_process(scenario: str, seconds: float) -> dict[str, float]:
    """The in-process reference row: 2 threads, no HTTP, no latency percentiles."""
    from bench.inprocess_bench import run as run_threads

    r = run_threads(scenario, 2, seconds)
    nan = float("nan")
    return {
        "rps": r["rps"],
        "requests": r["requests"],
        "p50_ms": nan,
        "p99_ms": nan,
        "errors": 0.0,
        "cpu_us_per_req": r["cpu_us"],
    }


def run(peers: list[str], scenarios: list[str], seconds: float, repeat: int, log: Callable[[str], None]) -> dict:
    results: dict[str, dict[str, list[dict[str, float]]]] = {}
    with tempfile.TemporaryDirectory(prefix="shardrun-peers-") as d:
        for rnd in range(repeat):
            for scenario in scenarios:
                for peer in peers:
                    if peer == "inprocess" and scenario == "timer":
                        continue  # sequential per thread: bound by the timer itself, not comparable
                    tmp = Path(d) / f"{peer}-{scenario}-{rnd}"
                    tmp.mkdir()
                    try:
                        if peer == "inprocess":
                            r = in_process(scenario, seconds)
                        else:
                            with server(peer, scenario, tmp) as (port, pids):
                                r = load(port, scenario, seconds, pids)
                    except (RuntimeError, subprocess.SubprocessError, OSError) as exc:
                        log(f"{peer} {scenario}: {exc}")
                        continue
                    results.setdefault(scenario, {}).setdefault(peer, []).append(r)
                    log(
                        f"round {rnd + 1} {scenario:5} {peer:9} {r['rps']:9.0f} req/s  p50 {r['p50_ms']:.2f} ms  "
                        f"p99 {r['p99_ms']:.2f} ms  cpu {r['cpu_us_per_req']:.0f} us/req  errors {r['errors']:.0f}"
                    )
    table: dict[str, dict[str, dict[str, float]]] = {}
    for scenario, by_peer in results.items():
        for peer, runs in by_peer.items():
            table.setdefault(scenario, {})[peer] = {
                k: statistics.median(r[k] for r in runs)
                for k in ("rps", "p50_ms", "p99_ms", "cpu_us_per_req", "errors")
            }
    return table


def render(table: dict[str, dict[str, dict[str, float]]]) -> str:
    lines = [
        "| scenario | server | req/s | p50 ms | p99 ms | server CPU µs/req | shardrun / this | shardrun shared / this |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for scenario, by_peer in table.items():
        ours = by_peer.get("shardrun", {}).get("rps")
        shared = by_peer.get("shardrun-shared", {}).get("rps")
        for peer, r in by_peer.items():
            ratio = f"{ours / r['rps']:.2f}×" if ours and r["rps"] else ""
            ratio_shared = f"{shared / r['rps']:.2f}×" if shared and r["rps"] else ""
            p50 = f"{r['p50_ms']:.2f}" if r["p50_ms"] == r["p50_ms"] else "—"
            p99 = f"{r['p99_ms']:.2f}" if r["p99_ms"] == r["p99_ms"] else "—"
            lines.append(
                f"| {scenario} | {peer} | {r['rps']:,.0f} | {p50} | {p99} | "
                f"{r['cpu_us_per_req']:,.0f} | {ratio} | {ratio_shared} |"
            )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--only", default=",".join(SCENARIOS), help="scenarios: hello,cpu,timer")
    ap.add_argument("--peers", default=",".join(ALL_PEERS), help="servers: " + ",".join(ALL_PEERS))
    ap.add_argument("--json", help="write the table as JSON here")
    a = ap.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk")
    if not 0 < a.seconds <= 120 or not 1 <= a.repeat <= 10:
        raise SystemExit("--seconds must be in (0, 120] and --repeat in [1, 10]")
    peers = [p for p in a.peers.split(",") if p]
    scenarios = [s for s in a.only.split(",") if s]
    bad = [p for p in peers if p not in ALL_PEERS] + [s for s in scenarios if s not in SCENARIOS]
    if bad:
        raise SystemExit(f"unknown peer or scenario: {', '.join(bad)}")
    table = run(peers, scenarios, a.seconds, a.repeat, lambda s: print(s, file=sys.stderr, flush=True))
    print(render(table))
    if a.json:
        Path(a.json).parent.mkdir(parents=True, exist_ok=True)
        Path(a.json).write_text(json.dumps(table, indent=2))


if __name__ == "__main__":
    main()
