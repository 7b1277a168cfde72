"""The command line: one typer app per command group, put together here (nothing imports this).

`run` (one request in this process; `oneshot` is its driver), `serve` (serve, invoke, status),
`tasks` (db-init, db-listen, listen), `bench` (bench, loadtest), `chaos`, `cron` (cron list).
"""

from __future__ import annotations

import typer

from shardrun.cli import bench, chaos, cron, run, serve, tasks

app = typer.Typer(
    name="shardrun",
    help="Run many tenants' JavaScript workers from Python: dense, fast and safe.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """Run many tenants' JavaScript workers from Python: dense, fast and safe."""


for group in (run, serve, tasks, bench, chaos):
    app.add_typer(group.app)
app.add_typer(cron.app, name="cron")  # a group of its own: `shardrun cron list`


def main() -> None:
    """Console-script entry point."""
    app()
