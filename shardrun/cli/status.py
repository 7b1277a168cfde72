"""`shardrun status`: the router's counters and every shard's state, as tables or as JSON.

The JSON document has the same keys on every run (a key the server did not report is null;
the accounting counters are always there), so scripts can read it:

    {"mode", "uptime_s", "router_pid", "pending", "queued",
     "counts": {"accepted", "answered", "failed", ...}, "errors": {code: n},
     "shards": [{SHARD_KEYS...}]}
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import orjson
import typer

from shardrun.cli.common import examples, fail

app = typer.Typer()

TOP_KEYS = ("mode", "uptime_s", "router_pid", "pending", "queued")
COUNTS = ("accepted", "answered", "failed")  # accepted = answered + failed (+ in flight)
SHARD_KEYS = (
    "slot",
    "pid",
    "ready",
    "gen",
    "restarts",
    "inflight",
    "queued",
    "waiting",
    "served",
    "errors",
    "cached",
    "cache_bytes",
    "hits",
    "misses",
    "evictions",
    "retired",
    "spares",
    "bad_frames",
    "rss_mb",
    "cpu_s",
)
COLUMNS = (
    "slot",
    "pid",
    "ready",
    "rss_mb",
    "cpu_s",
    "cached",
    "hits",
    "misses",
    "evictions",
    "inflight",
    "queued",
    "served",
    "errors",
    "restarts",
)


def document(st: dict[str, Any]) -> dict[str, Any]:
    """The stable document of a router's status reply (RSS in MB; CPU seconds as the shard reported them)."""
    shards = []
    for s in st.get("shards", []):
        row = {k: s.get(k) for k in SHARD_KEYS}
        rss = s.get("rss_bytes")
        row["rss_mb"] = round(rss / 2**20, 1) if isinstance(rss, int) and rss > 0 else None
        shards.append(row)
    counts = {k: 0 for k in COUNTS} | {str(k): v for k, v in sorted(st.get("counts", {}).items())}
    errors = {str(k): v for k, v in sorted(st.get("errors", {}).items())}
    return {**{k: st.get(k) for k in TOP_KEYS}, "counts": counts, "errors": errors, "shards": shards}


def cell(v: Any) -> str:
    """A value as a table cell: no Python reprs (yes/no, a dash for unknown)."""
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def render(doc: dict[str, Any]) -> None:
    """The document as a heading line and tables on stdout."""
    from rich.console import Console
    from rich.table import Table

    out = Console() if sys.stdout.isatty() else Console(width=160)
    up = doc["uptime_s"]
    out.print(
        f"shardrun status: mode={cell(doc['mode'])} uptime_s={cell(up)} router_pid={cell(doc['router_pid'])} "
        f"pending={cell(doc['pending'])} queued={cell(doc['queued'])}",
        markup=False,
        highlight=False,
    )
    t = Table(title="shards")
    for col in COLUMNS:
        t.add_column(col, justify="right")
    for s in doc["shards"]:
        t.add_row(*[cell(s.get(col)) for col in COLUMNS])
    out.print(t)
    for title, head, rows in (("counts", "counter", doc["counts"]), ("errors", "code", doc["errors"])):
        if not rows:
            out.print(f"{title}: none", highlight=False)
            continue
        tt = Table(title=title)
        tt.add_column(head)
        tt.add_column("count", justify="right")
        for k, v in rows.items():
            tt.add_row(k, cell(v))
        out.print(tt)


@app.command(
    epilog=examples(
        "shardrun status",
        "shardrun status --endpoint tcp://127.0.0.1:7700 --json | jq '.shards[] | {slot, rss_mb, served}'",
    )
)
def status(
    endpoint: Annotated[str, typer.Option(help="the router's client endpoint")] = "tcp://127.0.0.1:7700",
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON document (the same keys every time)")] = False,
    timeout: Annotated[float, typer.Option(help="seconds to wait for the router")] = 5.0,
) -> None:
    """Per-shard state of a running server (pid, RSS, CPU, cache, in flight, restarts) and its counters."""
    from shardrun.client import Client

    with Client(endpoint, timeout) as c:
        try:
            st = c.status()
        except TimeoutError:
            fail("E_INTERNAL", f"no reply from {endpoint} (is `shardrun serve` running?)")
    doc = document(st)
    if as_json:
        sys.stdout.buffer.write(orjson.dumps(doc, option=orjson.OPT_INDENT_2) + b"\n")
        return
    render(doc)
