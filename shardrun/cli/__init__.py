"""The command line: one typer app per command group, put together here (nothing imports this).

`run` (one request in this process; `oneshot` is its driver), `serve` (serve, invoke), `status`,
`config` (config show), `check` (`checkdir` is its driver), `tasks` (db-init, db-listen, listen),
`bench` (bench, loadtest), `chaos`, `cron` (cron list).

Start-up is kept short for `invoke` and `status`: the top level of every command module imports
only typer and the standard library (the rest is imported inside the commands), and a command
line that names a command builds only that command's group (`--help` alone builds them all).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

import typer

from shardrun.cli.common import examples

# command -> the module (shardrun/cli/<module>.py) that defines it
GROUPS = {
    "run": "run",
    "serve": "serve",
    "invoke": "serve",
    "status": "status",
    "check": "check",
    "config": "config",
    "db-init": "tasks",
    "db-listen": "tasks",
    "listen": "tasks",
    "bench": "bench",
    "loadtest": "bench",
    "chaos": "chaos",
    "cron": "cron",
}
HELP = "Run many tenants' JavaScript workers from Python: dense, fast and safe."


def make_app(argv: Sequence[str] = ()) -> typer.Typer:
    """The app for this command line: the named command's group only, else every group."""
    command = next((a for a in argv if not a.startswith("-")), None)
    modules = [GROUPS[command]] if command in GROUPS else list(dict.fromkeys(GROUPS.values()))
    app = typer.Typer(
        name="shardrun",
        help=HELP,
        epilog=examples(
            "shardrun serve --port 8080",
            """shardrun invoke hello --payload '{"name": "x"}'""",
            "shardrun status --json",
            "shardrun COMMAND --help",
        ),
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )

    @app.callback()
    def _root() -> None:
        """Run many tenants' JavaScript workers from Python: dense, fast and safe."""

    for name in modules:
        group = importlib.import_module(f"shardrun.cli.{name}").app
        if name == "cron":
            app.add_typer(group, name="cron")  # a group of its own: `shardrun cron list`
        else:
            app.add_typer(group)
    return app


def main() -> None:
    """Console-script entry point."""
    make_app(sys.argv[1:])(prog_name="shardrun")
