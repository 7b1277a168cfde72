"""`shardrun cron list`: the workers' cron triggers and their next firings (UTC)."""

from __future__ import annotations

import datetime as dt
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer

from shardrun.cli.common import examples, fail
from shardrun.errors import EXIT_SCRIPT, ShardrunError

app = typer.Typer(
    name="cron",
    help="Cron triggers ([triggers] crons of the workers).",
    no_args_is_help=True,
    epilog=examples("shardrun cron list", "shardrun cron list --workers configs/workers --json"),
)


@app.command("list", epilog=examples("shardrun cron list --count 5", "shardrun cron list --json"))
def list_crons(
    workers: Annotated[
        Path | None, typer.Option(help="workers directory (default: the settings' [serve] workers)")
    ] = None,
    config: Annotated[Path | None, typer.Option(help="settings file (TOML)")] = None,
    count: Annotated[int, typer.Option(min=1, max=100, help="next firings shown per cron")] = 3,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Every worker's crons and their next firings; a worker whose worker.toml is wrong is listed with its error (exit 1)."""
    from rich.console import Console
    from rich.table import Table

    from shardrun.settings import load_settings
    from shardrun.sources.schedule import next_firings
    from shardrun.workers import Registry

    try:
        settings = load_settings(config)
        root = workers or settings.serve.workers
        if not root.is_dir():
            fail("E_NOT_FOUND", f"workers directory not found: {root}")
        registry = Registry(root, settings.limits.to_limits(), settings.fetch)
        names = registry.names()
    except ShardrunError as exc:
        fail(exc.code, exc.message)
    now = time.time()
    rows: list[dict[str, Any]] = []
    errors: list[dict[str, str]] = []
    for name in names:
        try:
            spec = registry.get(name)
        except ShardrunError as exc:
            errors.append({"worker": name, "code": exc.code, "message": exc.message})
            continue
        for cron in spec.crons:
            nxt = [_iso(t) for t in next_firings(cron, now, count)]
            rows.append({"worker": name, "tenant": spec.tenant, "cron": cron, "next": nxt})
    if as_json:
        sys.stdout.buffer.write(orjson.dumps({"crons": rows, "errors": errors}, option=orjson.OPT_INDENT_2) + b"\n")
    else:
        t = Table(title=f"cron triggers in {root} (UTC)")
        for col in ("worker", "tenant", "cron", "next firings"):
            t.add_column(col)
        for r in rows:
            t.add_row(r["worker"], r["tenant"], r["cron"], "\n".join(r["next"]))
        Console().print(t)
        for e in errors:
            sys.stderr.write(orjson.dumps({"error": e}).decode() + "\n")
    if errors:
        raise typer.Exit(EXIT_SCRIPT)


def _iso(t: float) -> str:
    return dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
