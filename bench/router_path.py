"""The router's own work per HTTP request, in one process, without ZeroMQ or the wait.

    .venv/bin/python -m bench.router_path [--requests 20000] [--profile]

A real FrontDoor and RoutingTable (the router's), a loopback client connection, and the hello
worker: each round the client sends a keep-alive GET, the door reads and parses it, the table
admits it for shard 0, a reply shaped as a shard sends it is handed to the table, and the door
renders and writes the response, which the client reads. What is left out is what the serve
profile shows apart: the ZeroMQ sends and receives and the epoll wait. It prints µs per request
(the client's send and recv included, measured alone too); with --profile, cProfile's top
functions by own time.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import select
import socket
import tempfile
import time
from pathlib import Path

from shardrun import protocol
from shardrun.server.frontdoor import FrontDoor
from shardrun.server.http import HttpLimits
from shardrun.server.table import RoutingTable
from shardrun.settings import Settings

HELLO = "export default { fetch(request) { return Response.json({ path: new URL(request.url).pathname }); } };\n"
REQUEST = b"GET /path HTTP/1.1\r\nHost: hello.workers.localhost\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n"
IDENT = b"shard-0-1"


def reply(rid: int) -> bytes:
    """A hello reply as a shard sends it (replies.result_body)."""
    value = {
        "status": 200,
        "statusText": "",
        "headers": [["content-type", "application/json"]],
        "text": '{"path":"/path"}',
    }
    return protocol.reply_body(rid, True, value, shard=0, tenant="hello", cpu_ms=0.05, wall_ms=0.06)


def setup(workers: Path) -> tuple[FrontDoor, RoutingTable, socket.socket]:
    (workers / "hello.js").write_text(HELLO)
    settings = Settings(serve={"workers": str(workers), "shards": 1, "access_log": False})
    table = RoutingTable(settings)
    table.on_alive(IDENT, protocol.Message(protocol.READY, {"shard": 0, "pid": 1, "gen": 0}))
    s = settings.serve
    door = FrontDoor(
        "127.0.0.1", 0, s.worker_domains, HttpLimits(), 32, table.accept, table.status, time.monotonic(), False
    )
    client = socket.create_connection(("127.0.0.1", door.port))
    client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    time.sleep(0.05)
    door.accept(time.monotonic())
    return door, table, client


def round_trip(door: FrontDoor, table: RoutingTable, client: socket.socket, fd: int) -> None:
    client.send(REQUEST)
    table.registry.recheck()  # the router's loop does this once per wake-up
    door.handle([(fd, select.EPOLLIN)], time.monotonic())
    batches, table.shard_out = table.shard_out, {}
    for batch in batches.values():
        for p in batch:
            table.on_reply(IDENT, reply(p.rid))
    out, table.client_out = table.client_out, {}
    for c, bodies in out.items():
        for body in bodies:
            door.deliver(c, body)
    door.sync(False)
    client.recv(65536)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--requests", type=int, default=20000)
    ap.add_argument("--profile", action="store_true")
    a = ap.parse_args()
    if not 0 < a.requests <= 1_000_000:
        raise SystemExit("--requests must be 1..1000000")
    with tempfile.TemporaryDirectory() as d:
        door, table, client = setup(Path(d))
        (fd,) = door.conns
        for _ in range(500):  # warm: the worker's spec loaded, caches filled
            round_trip(door, table, client, fd)
        assert table.counts["answered"] >= 500, table.counts
        prof = cProfile.Profile() if a.profile else None
        t0 = time.process_time()
        if prof is not None:
            prof.enable()
        for _ in range(a.requests):
            round_trip(door, table, client, fd)
        if prof is not None:
            prof.disable()
        per = (time.process_time() - t0) / a.requests * 1e6
        # The client's part alone: a send and a recv on a pair of loopback sockets.
        a_sock, b_sock = socket.socketpair()
        t0 = time.process_time()
        for _ in range(a.requests):
            a_sock.send(REQUEST)
            b_sock.recv(65536)
        alone = (time.process_time() - t0) / a.requests * 1e6
        print(f"router path: {per:.1f} µs CPU per request (of which ~{2 * alone:.1f} the client's send + recv)")
        if prof is not None:
            pstats.Stats(prof).sort_stats("tottime").print_stats(30)
            pstats.Stats(prof).sort_stats("cumtime").print_stats(40)
        door.close()


if __name__ == "__main__":
    main()
