"""Several nodes behind HAProxy with configs/haproxy/shardrun.cfg (the file we ship, unchanged).

Two `shardrun serve` nodes on loopback answer the same workers, each saying which node it is;
HAProxy spreads the tenants by a consistent hash of the Host header. Checked: each tenant
sticks to one node; a node drained with SIGTERM (serve.drain_s) hands its tenants over with
no failed request; a node killed outright is routed around.
"""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.serve_helpers import ROOT, Server, free_port

pytestmark = pytest.mark.slow
HAPROXY = shutil.which("haproxy") or ("/usr/sbin/haproxy" if os.path.exists("/usr/sbin/haproxy") else None)
TENANTS = [f"t{i}" for i in range(24)]
DOMAIN = "workers.localhost"


def node_workers(label: str) -> dict[str, str]:
    src = f"export default {{ fetch(request) {{ return new Response('{label}') }} }}"
    return {f"{t}.js": src for t in TENANTS}


class Balancer:
    """HAProxy in the foreground on a free loopback port, in front of the given nodes."""

    def __init__(self, tmp: Path, nodes: list[Server]) -> None:
        assert HAPROXY, "haproxy is not installed (scripts/services installs it)"
        self.port = free_port()
        env = {
            **os.environ,
            "SHARDRUN_LB_BIND": f"127.0.0.1:{self.port}",
            **{f"SHARDRUN_NODE{i + 1}": f"127.0.0.1:{n.http_port}" for i, n in enumerate(nodes)},
        }
        self.log = open(tmp / "haproxy.log", "wb")  # noqa: SIM115  (closed in close())
        self.proc = subprocess.Popen(
            [HAPROXY, "-db", "-f", str(ROOT / "configs" / "haproxy" / "shardrun.cfg")],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def get(self, tenant: str, timeout: float = 5.0) -> tuple[int, str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request("GET", "/", headers={"Host": f"{tenant}.{DOMAIN}"})
            resp = conn.getresponse()
            return resp.status, resp.read().decode(errors="replace")
        except (OSError, http.client.HTTPException) as exc:
            return 0, type(exc).__name__
        finally:
            conn.close()

    def wait_both(self, labels: set[str], timeout: float = 15.0) -> dict[str, str]:
        """Until every tenant answers 200 and both nodes are in use (their checks passed): tenant -> node."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            owners = {t: self.get(t) for t in TENANTS}
            if all(s == 200 for s, _ in owners.values()) and {b for _, b in owners.values()} == labels:
                return {t: b for t, (_, b) in owners.items()}
            time.sleep(0.2)
        raise AssertionError(f"the balancer never used both nodes: {owners}")

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        self.log.close()


@pytest.fixture
def cluster(tmp_path):
    if not HAPROXY:
        pytest.fail("haproxy is not installed (scripts/services installs it)")
    nodes: list[Server] = []
    lb = None
    try:
        for label in ("node1", "node2"):
            d = tmp_path / label
            d.mkdir()
            nodes.append(Server(d, node_workers(label), shards=1, drain_s=2.0, graceful_timeout_s=5))
        lb = Balancer(tmp_path, nodes)
        yield lb, nodes
    finally:
        if lb is not None:
            lb.close()
        for n in nodes:
            n.close()


def direct(node: Server, path: str, host: str) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", node.http_port, timeout=5)
    try:
        conn.request("GET", path, headers={"Host": host})
        resp = conn.getresponse()
        return resp.status, resp.read().decode()
    finally:
        conn.close()


class Load:
    """Requests over every tenant, one after another, from a thread, for a bounded time."""

    def __init__(self, lb: Balancer, seconds: float) -> None:
        self.lb, self.seconds = lb, seconds
        self.results: list[tuple[float, str, int, str]] = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        end = time.monotonic() + self.seconds
        i = 0
        while time.monotonic() < end:
            t = TENANTS[i % len(TENANTS)]
            status, body = self.lb.get(t)
            self.results.append((time.monotonic(), t, status, body))
            i += 1

    def join(self) -> list[tuple[float, str, int, str]]:
        self.thread.join(self.seconds + 30)
        return self.results


def test_each_tenant_sticks_to_one_node_and_both_nodes_serve(cluster):
    lb, _ = cluster
    owners = lb.wait_both({"node1", "node2"})
    for _ in range(3):
        for t in TENANTS:
            assert lb.get(t) == (200, owners[t]), t
    spread = Counter(owners.values())
    assert min(spread.values()) >= 3, spread  # a consistent hash over 24 tenants uses both nodes


def test_a_drained_node_hands_its_tenants_over_with_no_failed_request(cluster):
    lb, nodes = cluster
    owners = lb.wait_both({"node1", "node2"})
    load = Load(lb, seconds=7.0)
    time.sleep(1.0)
    sent_term = time.monotonic()
    nodes[0].proc.send_signal(signal.SIGTERM)  # drain_s = 2: health 503 first, then it stops
    time.sleep(0.5)
    health = direct(nodes[0], "/_shardrun/health", "x")
    assert health[0] == 503 and '"draining":true' in health[1], health
    assert direct(nodes[0], "/", f"{TENANTS[0]}.{DOMAIN}") == (200, "node1")  # still serving while draining
    results = load.join()
    assert nodes[0].proc.wait(20) == 0, nodes[0].logs()
    failed = [r for r in results if r[2] != 200]
    assert not failed, failed[:5]
    assert len(results) > 50
    late = [r for r in results if r[0] > sent_term + 3.5]  # after the drain time and HAProxy's checks
    assert late and all(body == "node2" for _, _, _, body in late)
    moved = {t for t, n in owners.items() if n == "node1"}
    assert moved and moved <= {t for _, t, _, _ in late}  # node1's tenants were served by node2


def test_a_killed_node_is_routed_around(cluster):
    lb, nodes = cluster
    owners = lb.wait_both({"node1", "node2"})
    nodes[0].proc.send_signal(signal.SIGKILL)  # the supervisor; its router and shards follow it
    nodes[0].proc.wait(10)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # the listener closes when the router sees its parent gone
        answers = [lb.get(t) for t in TENANTS]
        if all(a == (200, "node2") for a in answers):
            break
        time.sleep(0.1)
    else:
        raise AssertionError(f"node1's tenants were not moved: {answers}")
    for t, n in owners.items():  # and they stay answered, node1's tenants included
        assert lb.get(t) == (200, "node2"), (t, n)
