"""A shard's own work per HTTP request, in one process, without ZeroMQ or the wait.

    .venv/bin/python -m bench.shard_path [--requests 20000] [--profile] [--worker hello]

A real Shard (its sockets connect to an endpoint nobody binds, so nothing is sent), the
peers' worker bench/peers/workers/<worker>.js, and a request body as the router sends it:
each round the body is decoded as the shard's socket read would, queued, started in the
tenant's warm isolate (its JS turn included), and its reply encoded for the batch. What is
left out is what the serve profile shows apart: the ZeroMQ receive and send and the wait.
Prints µs of CPU per request; with --profile, cProfile's top functions by own time.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import tempfile
import time
from pathlib import Path

import orjson

from shardrun import protocol
from shardrun.runtime.calls import HttpRequest
from shardrun.server.shard import Shard, ShardPlace
from shardrun.settings import Settings

WORKERS = Path(__file__).resolve().parent / "peers" / "workers"
HEADERS = [("host", "hello.workers.localhost"), ("user-agent", "wrk"), ("accept", "*/*")]


def request_body(rid: int, worker: str) -> bytes:
    """A fetch request as the router sends it to a shard (FrontDoor._call, RoutingTable.accept)."""
    arg = HttpRequest("GET", f"http://{worker}.workers.localhost/{worker}/path", HEADERS).to_js()
    body = {"id": rid, "worker": worker, "kind": "fetch", "arg": arg, "request_id": f"{rid:032x}", "stream": True}
    return orjson.dumps(body)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--requests", type=int, default=20000)
    ap.add_argument("--worker", default="hello", choices=("hello", "cpu", "timer"))
    ap.add_argument("--profile", action="store_true")
    a = ap.parse_args()
    if not 0 < a.requests <= 1_000_000:
        raise SystemExit("--requests must be 1..1000000")
    with tempfile.TemporaryDirectory() as d:
        wdir = Path(d) / "workers"
        wdir.mkdir()
        (wdir / f"{a.worker}.js").write_text((WORKERS / f"{a.worker}.js").read_text())
        settings = Settings(serve={"workers": str(wdir), "shards": 1, "access_log": False})
        place = ShardPlace(0, 0, f"ipc://{d}/nobody.ipc", Path(d) / "hb", os.getpid())
        shard = Shard(settings, place)
        try:
            bodies = [request_body(i, a.worker) for i in range(1, a.requests + 501)]

            def one(raw: bytes) -> None:
                shard.registry.recheck()  # one request per wake-up, as under light load
                for msg in protocol.decode_all([protocol.HEADER, protocol.REQUEST, raw]):
                    assert isinstance(msg, protocol.Message)
                    shard.runq.put(shard._tenant_of(msg), msg)
                shard._run_queued()
                while shard.wakes:  # a timer worker: run it to its answer
                    shard._pump_due()
                if shard._out:
                    protocol.encode_batch(protocol.REPLY, shard._out)
                    shard._out = []

            for raw in bodies[:500]:  # warm: the isolate made, the spec loaded
                one(raw)
            assert shard.served >= 500 and shard.errors == 0, (shard.served, shard.errors)
            prof = cProfile.Profile() if a.profile else None
            t0 = time.process_time()
            if prof is not None:
                prof.enable()
            for raw in bodies[500:]:
                one(raw)
            if prof is not None:
                prof.disable()
            per = (time.process_time() - t0) / a.requests * 1e6
            print(f"shard path ({a.worker}): {per:.1f} µs CPU per request")
            if prof is not None:
                pstats.Stats(prof).sort_stats("tottime").print_stats(30)
                pstats.Stats(prof).sort_stats("cumtime").print_stats(45)
        finally:
            shard.close()


if __name__ == "__main__":
    main()
