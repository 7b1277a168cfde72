"""What the trust boundary costs per response: the shard's check, the router's check, the render.

    .venv/bin/python -m bench.boundary_bench [--n 100000]

A typical JSON response (3 headers, a short text body) and a 64 KiB binary one (base64).
"""

from __future__ import annotations

import argparse
import base64
import timeit

from shardrun.runtime import boundary
from shardrun.server.httpsyntax import render

SMALL = {
    "status": 200,
    "statusText": "",
    "headers": [["content-type", "application/json"], ["x-a", "1"], ["cache-control", "no-store"]],
    "text": '{"path":"/"}',
}
BINARY = {**SMALL, "text": None, "b64": base64.b64encode(bytes(range(256)) * 256).decode()}
del BINARY["text"]
HEADERS = [("content-type", "application/json"), ("x-a", "1"), ("cache-control", "no-store"), ("x-request-id", "a")]


def us(fn: object, n: int) -> float:
    return min(timeit.repeat(fn, number=n, repeat=5)) / n * 1e6  # type: ignore[arg-type]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000)
    n = ap.parse_args().n
    print("| step | small JSON response, µs | 64 KiB binary response, µs |\n|---|---:|---:|")
    for name, f in (
        ("shard: boundary.wire_response", lambda d: boundary.wire_response(d, 10 << 20)),
        ("router: HttpResponse.from_js (boundary.response)", lambda d: boundary.response(d, 10 << 20)),
    ):
        small, binary = us(lambda f=f: f(SMALL), n), us(lambda f=f: f(BINARY), max(1, n // 100))
        print(f"| {name} | {small:.2f} | {binary:.2f} |")
    print(f"| router: render (head checks + bytes) | {us(lambda: render(200, HEADERS, b'{}'), n):.2f} | |")


if __name__ == "__main__":
    main()
