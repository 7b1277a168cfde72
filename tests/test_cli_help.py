"""Every command's --help has examples; the command table is complete; invoke and status start light."""

from __future__ import annotations

import subprocess
import sys

import pytest
import typer.main
from typer.testing import CliRunner

from shardrun.cli import GROUPS, make_app

from .conftest import ROOT
from .serve_helpers import free_port

pytestmark = pytest.mark.timeout(120)


def all_commands() -> dict[str, list[str]]:
    """Every command path ("config show") of the full app."""
    root = typer.main.get_command(make_app())
    out: dict[str, list[str]] = {}

    def walk(group, path):
        for name, cmd in group.commands.items():
            if hasattr(cmd, "commands"):
                walk(cmd, [*path, name])
            else:
                out[" ".join([*path, name])] = [*path, name]

    walk(root, [])
    return out


def test_groups_name_every_command():
    tops = {path[0] for path in all_commands().values()}
    assert tops == set(GROUPS)
    for command, module in GROUPS.items():  # each module builds its own commands when named
        assert command in typer.main.get_command(make_app([command])).commands, (command, module)


@pytest.mark.parametrize("command", sorted(all_commands()))
def test_every_command_help_has_an_example(command):
    args = all_commands()[command]
    r = CliRunner().invoke(make_app(args), [*args, "--help"], terminal_width=200)
    assert r.exit_code == 0, r.output
    assert "Examples:" in r.output
    examples = r.output.split("Examples:", 1)[1]
    assert f"shardrun {command}" in examples, examples


def started_modules(*argv: str) -> set[str]:
    """The modules a CLI command line imported (it runs in a child; failing is fine here)."""
    code = (
        "import runpy, sys\n"
        f"sys.argv = ['shardrun', *{list(argv)!r}]\n"
        "try:\n    runpy.run_module('shardrun', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "sys.stdout.write(' '.join(sorted(sys.modules)))\n"
    )
    p = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, cwd=ROOT, timeout=60)
    return set(p.stdout.decode().split())


HEAVY = ("pydantic", "pydantic_settings", "asyncio", "shardrun.settings", "shardrun.engine._quickjs", "psutil")


@pytest.mark.parametrize(
    "argv",
    [
        ("invoke", "hello", "--timeout", "0.2"),
        ("status", "--json", "--timeout", "0.2"),
        ("status", "--timeout", "0.2"),
    ],
)
def test_invoke_and_status_import_no_heavy_modules(argv):
    # the start-up figure is in bench/RESULTS.md (python -m bench.cli_startup); here: what it rests on
    mods = started_modules(*argv, "--endpoint", f"tcp://127.0.0.1:{free_port()}")
    assert "shardrun.client" in mods  # it did run the command
    assert not [m for m in HEAVY if m in mods]
    cli = {m for m in mods if m.startswith("shardrun.cli.")}
    assert cli <= {"shardrun.cli.common", "shardrun.cli.serve", "shardrun.cli.status"}  # only the command's group
