"""URL micro-benchmarks: the URL class in a warm isolate, µs per operation, and the hello request.

    .venv/bin/python -m bench.url_bench [--seconds 1.0] [--json FILE]

Each URL row is a task that runs its operation n times in a loop in JS; the figure is
(time of the call with n = N) - (time of the call with n = 0), divided by N, each the median
of 5 timed loops (bench.runtime_bench.per_call_us), so the cost of a call into the isolate is
left out. "same string" rows repeat one input (as `new URL(request.url)` does per request);
"distinct" rows parse (or set) a new string each time, which the isolate's cache of strings
parsed lately cannot answer. The last rows are whole fetch requests in process
(WorkerIsolate.submit to its result): the peers' hello (bench/peers/workers/hello.js,
`new URL(request.url).pathname` answered as JSON) and the same answer without the URL, whose
difference is what the URL costs a request. Compare within one run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from pathlib import Path
from typing import Any

from bench.runtime_bench import per_call_us
from shardrun.runtime.calls import HttpRequest
from shardrun.runtime.isolate import WorkerIsolate
from shardrun.runtime.script import Script

N = 1000
HELLO = Path(__file__).parent / "peers" / "workers" / "hello.js"
NO_URL = 'export default { fetch(request) { return Response.json({ path: "/" }); } };'
REQ = HttpRequest("GET", "https://hello.workers.localhost/")
SOURCE = r"""
const HREF = "https://hello.workers.localhost/api/items/42?q=shoes&page=2&sort=price";
const BASE = "https://example.com/a/b/c";
const OPS = {
  pathname: (n) => { let x; for (let i = 0; i < n; i++) x = new URL(HREF).pathname; return x; },
  distinct: (n) => { let x; for (let i = 0; i < n; i++) x = new URL(HREF + i).pathname; return x; },
  relative: (n) => { let x; for (let i = 0; i < n; i++) x = new URL("../d/e?x=1", BASE).href; return x; },
  params: (n) => { let x; for (let i = 0; i < n; i++) x = new URL(HREF).searchParams.get("q"); return x; },
  setter: (n) => { const u = new URL(HREF); for (let i = 0; i < n; i++) u.pathname = "/p/" + (i & 7); return u.href; },
  setnew: (n) => { const u = new URL(HREF); for (let i = 0; i < n; i++) u.pathname = "/p/" + i; return u.href; },
  pattern: (n) => { const pt = new URLPattern({ pathname: "/api/items/:id" }); let x; for (let i = 0; i < n; i++) x = pt.exec(HREF).pathname.groups.id; return x; },
  usp: (n) => { let x; for (let i = 0; i < n; i++) x = new URLSearchParams("a=1&b=x%20y&c=%E2%82%AC").get("c"); return x; },
};
export default { task(p) { return OPS[p.op](p.n); } };
"""
ROWS = [
    ("pathname", "`new URL(request.url).pathname`, same string"),
    ("distinct", "`new URL(s).pathname`, distinct strings"),
    ("relative", "`new URL(rel, base).href`, same strings"),
    ("params", "`new URL(s).searchParams.get(name)`, same string"),
    ("setter", "`url.pathname = v`, 8 values in turn"),
    ("setnew", "`url.pathname = v`, distinct values"),
    ("usp", "`new URLSearchParams(query).get(name)`, percent-escapes"),
    ("pattern", "`new URLPattern({pathname}).exec(s)`, same string"),
]


def driven(w: WorkerIsolate, kind: str, arg: Any) -> Any:
    def call() -> Any:
        c = w.submit(kind, arg)
        while not c.finished:
            w.pump()
        assert c.result is not None and c.result.ok, c.result and c.result.error
        return c.result.value

    return call


def measure(seconds: float) -> dict[str, float]:
    rows: dict[str, float] = {}
    w = WorkerIsolate(Script.from_source(SOURCE, "url_bench.js"))
    for op, _ in ROWS:
        driven(w, "task", {"op": op, "n": N})()  # warm: chunks loaded, caches filled
        full = per_call_us(driven(w, "task", {"op": op, "n": N}), seconds)
        empty = per_call_us(driven(w, "task", {"op": op, "n": 0}), seconds)
        rows[op] = (full - empty) / N
    hello = WorkerIsolate(Script.from_source(HELLO.read_text(), "hello.js"))
    rows["hello_request_us"] = per_call_us(driven(hello, "fetch", REQ), seconds)
    no_url = WorkerIsolate(Script.from_source(NO_URL, "no_url.js"))
    rows["no_url_request_us"] = per_call_us(driven(no_url, "fetch", REQ), seconds)
    return rows


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--seconds", type=float, default=1.0, help="length of each timed loop")
    ap.add_argument("--json", help="write every figure to this file")
    args = ap.parse_args(argv)
    rows = measure(args.seconds)
    print(f"# shardrun URL bench — {platform.machine()}, {sys.implementation.name} {platform.python_version()}")
    print("| operation | µs |\n|---|---:|")
    for op, name in ROWS:
        print(f"| {name} | {rows[op]:,.2f} |")
    print(f"| hello request (bench/peers/workers/hello.js), in process | {rows['hello_request_us']:,.1f} |")
    print(f"| the same answer without the URL, in process | {rows['no_url_request_us']:,.1f} |")
    if args.json:
        os.makedirs(os.path.dirname(args.json) or ".", exist_ok=True)
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
