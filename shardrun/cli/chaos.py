"""`shardrun chaos`: the fault-storm harness (see shardrun.benchmarks.chaos)."""

from __future__ import annotations

from typing import Annotated

import typer

from shardrun.cli.common import examples

app = typer.Typer()


@app.command(
    epilog=examples(
        "shardrun chaos",
        "shardrun chaos --requests 2000 --tenants 100 --faults 50 --kills 2 --seed 7",
    )
)
def chaos(
    requests: Annotated[int, typer.Option(help="requests in all (faults included)")] = 20_000,
    tenants: Annotated[int, typer.Option(help="tenants, each with its own worker and secret")] = 1_000,
    faults: Annotated[int, typer.Option(help="injected faults (kills included)")] = 200,
    kills: Annotated[int, typer.Option(help="of the faults, SIGKILLs of a shard")] = 10,
    shards: Annotated[int, typer.Option()] = 2,
    concurrency: Annotated[int, typer.Option(help="requests in flight")] = 64,
    seed: Annotated[int, typer.Option()] = 1,
    max_seconds: Annotated[float, typer.Option(help="stop sending after this long")] = 600,
) -> None:
    """Storm a real server with faults; exit 1 on any lost, hung, wrong or leaked answer."""
    from rich.console import Console
    from rich.progress import Progress
    from rich.table import Table

    from shardrun.benchmarks.chaos import run_chaos

    if not (0 <= kills <= faults < requests and tenants >= 1):
        raise typer.BadParameter("need 0 <= kills <= faults < requests and tenants >= 1")
    console = Console(stderr=True)
    with Progress(console=console, transient=True) as progress:
        bar = progress.add_task(f"{requests} requests, {faults} faults, {tenants} tenants", total=1.0)
        report = run_chaos(
            requests=requests,
            tenants=tenants,
            faults=faults,
            kills=kills,
            shards=shards,
            concurrency=concurrency,
            seed=seed,
            max_seconds=max_seconds,
            progress=lambda f: progress.update(bar, completed=f),
        )
    table = Table(
        title=f"chaos: {requests} requests, {tenants} tenants, {faults} faults ({kills} kills), {report.seconds:.1f} s"
    )
    table.add_column("outcome")
    table.add_column("count", justify="right")
    for outcome, n in sorted(report.outcomes.items()):
        table.add_row(outcome, str(n))
    resp = report.respawn_s
    table.add_row("shard respawns (max s)", f"{len(resp)} ({max(resp):.2f})" if resp else "0")
    for role, mb in sorted(report.rss_mb.items()):
        table.add_row(f"max RSS {role} (MB)", f"{mb:.0f}")
    table.add_row("violations", str(len(report.violations)))
    Console().print(table)
    for v in report.violations[:50]:
        console.print(f"[red]violation:[/red] {v}")
    raise typer.Exit(0 if report.ok else 1)
