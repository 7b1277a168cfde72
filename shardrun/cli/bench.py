"""`shardrun bench` (the seed's architecture comparison) and `shardrun loadtest`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer

from shardrun.cli.common import examples, fail

app = typer.Typer()


@app.command(
    epilog=examples(
        "shardrun bench --repeat 3 --json bench/out.json",
        "shardrun bench --only warm_cache --no-serve",
        "shardrun bench --transport zmq --shards 2 --chart bench/chart.png",
    )
)
def bench(
    threads: Annotated[int, typer.Option(help="threads of the main multithread case (the seed's 4 x 20)")] = 4,
    repeat: Annotated[int, typer.Option(help="repetitions of every case (median, min, max)")] = 5,
    requests: Annotated[int, typer.Option(help="multiply every request count")] = 1,
    only: Annotated[list[str], typer.Option(help="run only these case ids (repeatable)")] = [],  # noqa: B006
    json_out: Annotated[Path | None, typer.Option("--json", help="write every repetition and the machine here")] = None,
    serve: Annotated[
        bool, typer.Option(help="also run the scenarios through real servers (oneshot/shared/pinned)")
    ] = True,
    shards: Annotated[int, typer.Option(help="shards of the servers")] = 2,
    transport: Annotated[list[str], typer.Option(help="zmq and/or http (repeatable)")] = ["zmq", "http"],  # noqa: B006
    chart: Annotated[Path | None, typer.Option(help="draw grouped bars to this PNG (needs shardrun[chart])")] = None,
) -> None:
    """The seed's Worker vs shared-pool vs thread-pinned comparison: in process, and through `serve`."""
    import statistics

    from rich.console import Console
    from rich.progress import Progress
    from rich.table import Table

    from shardrun.benchmarks.report import machine, measure, measure_served, summarise
    from shardrun.benchmarks.scenarios import cases
    from shardrun.benchmarks.served import MODES, served_cases

    if threads < 1 or repeat < 1 or requests < 1 or shards < 1:
        fail("E_USAGE", "--threads, --repeat, --requests and --shards must be at least 1")
    if not set(transport) <= {"zmq", "http"}:
        fail("E_USAGE", f"--transport takes zmq or http, got {transport}")
    if chart is not None:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            fail("E_USAGE", "--chart needs matplotlib: pip install 'shardrun[chart]'")
    todo = [c for c in cases(threads, requests) if not only or c.id in only]
    if not todo:
        fail("E_USAGE", f"no case matches --only {only}")
    todo_served = [c for c in served_cases(threads, requests) if c.id in {t.id for t in todo}] if serve else []
    steps = sum(len(c.archs) for c in todo) * repeat + len(todo_served) * len(MODES) * len(transport) * repeat
    served: dict[str, Any] = {}
    with Progress(transient=True, console=Console(stderr=True)) as progress:
        task = progress.add_task("benchmarking", total=steps)
        advance = lambda what: progress.update(task, advance=1, description=what)  # noqa: E731
        results = measure(todo, repeat, advance)
        if todo_served:
            served = measure_served(todo_served, repeat, shards, tuple(transport), advance)
    rows = summarise(results)
    t = Table(title=f"shardrun bench — median req/s of {repeat} runs (min–max); seed figure in brackets")
    for col in ("case", "worker", "shared", "pinned", "pinned/worker (seed)", "pinned/shared (seed)"):
        t.add_column(col, justify="right" if col != "case" else "left")

    def cell(row: dict[str, Any], arch: str) -> str:
        if arch not in row["median"]:
            return "N/A"
        seed = row["seed"].get(arch)
        return f"{row['median'][arch]:,.0f} ({row['min'][arch]:,.0f}–{row['max'][arch]:,.0f})" + (
            f" [{seed:,.0f}]" if seed else ""
        )

    def ratio(row: dict[str, Any], key: str) -> str:
        ours, seed = row.get(key), row.get(f"seed {key}")
        return "—" if ours is None else f"{ours:.2f}×" + (f" ({seed:.2f}×)" if seed else "")

    for row in rows:
        t.add_row(
            row["case"],
            cell(row, "worker"),
            cell(row, "shared"),
            cell(row, "pinned"),
            ratio(row, "pinned/worker"),
            ratio(row, "pinned/shared"),
        )
    out = Console() if sys.stdout.isatty() else Console(width=160)
    out.print(t)
    if served:
        st = Table(title=f"through `shardrun serve --shards {shards}` — median req/s (min–max)")
        cols = [f"{m} {tr}" for m in MODES for tr in transport]
        st.add_column("case")
        for col in cols:
            st.add_column(col, justify="right")
        for cid, by in served.items():
            st.add_row(
                cid,
                *[
                    f"{statistics.median(by[c]):,.0f} ({min(by[c]):,.0f}–{max(by[c]):,.0f})" if by.get(c) else "—"
                    for c in cols
                ],
            )
        out.print(st)
    if chart is not None:
        from shardrun.benchmarks.chart import draw

        draw(rows, chart)
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        doc = {
            "machine": machine(),
            "args": {
                "threads": threads,
                "repeat": repeat,
                "requests": requests,
                "shards": shards,
                "transport": transport,
                "serve": serve,
            },
            "results": results,
            "summary": rows,
            "served": served,
        }
        json_out.write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2))


@app.command(
    epilog=examples(
        "shardrun loadtest http://127.0.0.1:8080 --workers hello --seconds 5",
        "shardrun loadtest http://127.0.0.1:8080 --workers 'w*' --tenants 100 --mode open --rate 2000",
        "shardrun loadtest tcp://127.0.0.1:7700 --kind task --concurrency 32 --json load.json",
    )
)
def loadtest(
    target: Annotated[str, typer.Argument(help="http://127.0.0.1:PORT or a ZeroMQ endpoint (tcp://127.0.0.1:7700)")],
    workers: Annotated[str, typer.Option(help="comma-separated worker names, or PREFIX* with --tenants")] = "hello",
    tenants: Annotated[int, typer.Option(help="with --workers PREFIX*: PREFIX0 .. PREFIX{N-1}")] = 1,
    mode: Annotated[str, typer.Option(help="closed (fixed concurrency) or open (fixed arrival rate)")] = "closed",
    concurrency: Annotated[int, typer.Option(help="closed loop: requests in flight")] = 64,
    rate: Annotated[float, typer.Option(help="open loop: requests per second")] = 1000.0,
    seconds: Annotated[float, typer.Option(help="how long (bounded)")] = 10.0,
    kind: Annotated[str, typer.Option(help="ZeroMQ only: fetch or task")] = "fetch",
    json_out: Annotated[Path | None, typer.Option("--json", help="write the summary here")] = None,
) -> None:
    """Load a running server on loopback: req/s, p50/p90/p99/max and errors by code."""
    import asyncio

    from rich.console import Console
    from rich.progress import Progress

    from shardrun.benchmarks.loadgen import check_loopback, run

    if mode not in ("closed", "open") or kind not in ("fetch", "task"):
        fail("E_USAGE", "--mode is closed or open; --kind is fetch or task")
    if concurrency < 1 or rate <= 0 or not 0 < seconds <= 3600:
        fail("E_USAGE", "--concurrency ≥ 1, --rate > 0 and 0 < --seconds ≤ 3600")
    try:
        check_loopback(target)
    except ValueError as exc:
        fail("E_USAGE", str(exc))
    names = [f"{workers[:-1]}{i}" for i in range(tenants)] if workers.endswith("*") else workers.split(",")
    with Progress(transient=True, console=Console(stderr=True)) as progress:
        bar = progress.add_task(f"{mode} loop on {target}", total=1.0)
        stats = asyncio.run(
            run(
                target,
                names,
                mode=mode,
                concurrency=concurrency,
                rate=rate,
                seconds=seconds,
                kind=kind,
                progress=lambda f: progress.update(bar, completed=f),
            )
        )
    summary = stats.summary()
    sys.stdout.buffer.write(orjson.dumps(summary, option=orjson.OPT_INDENT_2) + b"\n")
    if json_out is not None:
        json_out.write_bytes(orjson.dumps({"target": target, "mode": mode, "workers": len(names), **summary}))
