"""`shardrun serve` (a node: supervisor, router, shards), and `invoke` and `status` against one."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any, NoReturn

import orjson
import typer

from shardrun.cli.common import fail, parse_request, print_log, print_outcome
from shardrun.errors import ShardrunError, UsageError
from shardrun.runtime.calls import LogLine
from shardrun.runtime.jsonin import parse_payload
from shardrun.settings import load_settings

app = typer.Typer()


@app.command()
def serve(
    shards: Annotated[int | None, typer.Option(help="shard processes (default: cores)")] = None,
    mode: Annotated[str | None, typer.Option(help="pinned | shared | oneshot")] = None,
    workers: Annotated[Path | None, typer.Option(help="workers directory")] = None,
    endpoint: Annotated[str | None, typer.Option(help="ZeroMQ client endpoint (loopback)")] = None,
    max_queued: Annotated[int | None, typer.Option(help="requests waiting for a shard, in all")] = None,
    config: Annotated[Path | None, typer.Option(help="settings file (TOML)")] = None,
) -> None:
    """Serve the workers: a supervisor, a router and N shard processes."""
    flags = {"shards": shards, "mode": mode, "workers": workers, "client_endpoint": endpoint, "max_queued": max_queued}
    run_node(config, flags)


def run_node(config: Path | None, serve_flags: dict[str, Any], source_flags: dict[str, Any] | None = None) -> NoReturn:
    """Build the settings (flags win) and run a supervisor until it stops; exit with its code."""
    from shardrun.server.supervisor import run_supervisor
    from shardrun.settings import Settings

    try:
        settings = load_settings(config)
        update = {k: v for k, v in serve_flags.items() if v is not None}
        merged = settings.model_dump()
        merged["serve"].update(update)
        for name, value in (source_flags or {}).items():  # {"capacity": 4, "postgres": {"table": ...}}
            if isinstance(value, dict):
                merged["sources"][name].update({k: v for k, v in value.items() if v is not None})
            elif value is not None:
                merged["sources"][name] = value
        settings = Settings.model_validate(merged)
        if not settings.serve.workers.is_dir():
            raise UsageError(f"workers directory not found: {settings.serve.workers}", code="E_NOT_FOUND")
        from shardrun.sources.workloops import from_flags

        from_flags(settings.sources.workloops, settings.sources.capacity)
        from shardrun.bindings.config import check_data_dir

        check_data_dir(settings.bindings.data_dir)
    except ShardrunError as exc:
        fail(exc.code, exc.message)
    except ValueError as exc:  # pydantic validation
        fail("E_USAGE", str(exc))
    raise typer.Exit(run_supervisor(settings, str(config) if config else None, update))


@app.command()
def invoke(
    worker: Annotated[str, typer.Argument(help="worker name")],
    payload: Annotated[str, typer.Option(help="JSON payload for the task handler")] = "{}",
    tenant: Annotated[str | None, typer.Option(help="run as this tenant (default: the worker's own)")] = None,
    request: Annotated[str | None, typer.Option(help="call the fetch handler: 'METHOD /path'")] = None,
    header: Annotated[list[str], typer.Option("--header", "-H", help="a request header (repeatable)")] = [],  # noqa: B006
    body: Annotated[str | None, typer.Option(help="request body text, or @FILE")] = None,
    endpoint: Annotated[str, typer.Option(help="the router's client endpoint")] = "tcp://127.0.0.1:7700",
    timeout: Annotated[float, typer.Option(help="seconds to wait for the reply")] = 60.0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
) -> None:
    """Send one request to a running server and print the reply."""
    from shardrun.client import DEFAULT_DOMAIN, Client

    try:
        if request is not None:
            spec = request if " " in request.strip() else f"GET {request}"
            method, _, path = spec.strip().partition(" ")
            url = path.strip()
            if url.startswith("/"):
                url = f"https://{worker}.{DEFAULT_DOMAIN}{url}"
            req = parse_request(f"{method} {url}", header, body)
            kind, arg = "fetch", req.to_js()
        else:
            kind, arg = "task", parse_payload(payload)
    except ShardrunError as exc:
        fail(exc.code, exc.message)
    with Client(endpoint, timeout) as c:
        try:
            reply = c.call(worker, kind, arg, tenant=tenant)
        except TimeoutError as exc:
            fail("E_INTERNAL", f"no reply from {endpoint}: {exc} (is `shardrun serve` running?)")
    if not quiet:
        for level, text in reply.logs:
            print_log(LogLine(level, text))
    print_outcome(reply.ok, reply.value, reply.error)


@app.command()
def status(
    endpoint: Annotated[str, typer.Option(help="the router's client endpoint")] = "tcp://127.0.0.1:7700",
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Per-shard state of a running server: pid, RSS, CPU, cache, in-flight, restarts."""
    import psutil
    from rich.console import Console
    from rich.table import Table

    from shardrun.client import Client

    with Client(endpoint, 5.0) as c:
        try:
            st = c.status()
        except TimeoutError:
            fail("E_INTERNAL", f"no reply from {endpoint} (is `shardrun serve` running?)")
    for s in st["shards"]:
        try:
            p = psutil.Process(s["pid"])
            s["rss_mb"] = round(p.memory_info().rss / 2**20, 1)
            s["cpu_percent"] = p.cpu_percent(interval=0.1)
        except (psutil.Error, ValueError):
            s["rss_mb"] = s["cpu_percent"] = None
    if as_json:
        sys.stdout.buffer.write(orjson.dumps(st, option=orjson.OPT_INDENT_2) + b"\n")
        return
    t = Table(title=f"shardrun ({st['mode']}) — pending {st['pending']}, queued {st['queued']}")
    cols = [
        "slot",
        "pid",
        "ready",
        "rss_mb",
        "cpu_percent",
        "cached",
        "hits",
        "misses",
        "evictions",
        "inflight",
        "served",
        "restarts",
    ]
    for col in cols:
        t.add_column(col, justify="right")
    for s in st["shards"]:
        t.add_row(*[str(s.get(col, "")) for col in cols])
    out = Console() if sys.stdout.isatty() else Console(width=160)
    out.print(t)
    out.print(f"counts: {st['counts']}  errors: {st['errors']}")
