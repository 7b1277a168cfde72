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
    "rejections",
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


def columns(head: tuple[str, ...], rows: list[list[str]], left: int = 0) -> list[str]:
    """Aligned plain-text columns (the first `left` ones left-aligned, the rest right-aligned)."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
    return [
        "  ".join(c.ljust(w) if i < left else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True)))
        for cells in (list(head), *rows)
    ]


def render(doc: dict[str, Any]) -> str:
    """The document as a key=value heading and plain-text tables (not rich's: importing it would
    add a third to the command's start-up)."""
    lines = [
        f"shardrun status: mode={cell(doc['mode'])} uptime_s={cell(doc['uptime_s'])} "
        f"router_pid={cell(doc['router_pid'])} pending={cell(doc['pending'])} queued={cell(doc['queued'])}",
        "",
        *columns(COLUMNS, [[cell(s.get(col)) for col in COLUMNS] for s in doc["shards"]]),
    ]
    for head, rows in ((("counter", "count"), doc["counts"]), (("error", "count"), doc["errors"])):
        lines.append("")
        if rows:
            lines += columns(head, [[k, cell(v)] for k, v in rows.items()], left=1)
        else:
            lines.append(f"{head[0]}s: none")
    return "\n".join(lines) + "\n"


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
    sys.stdout.write(render(doc))
