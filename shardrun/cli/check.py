"""`shardrun check DIR`: validate a workers directory before serving it (see cli/checkdir.py)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import orjson
import typer

from shardrun.cli.common import examples, fail
from shardrun.cli.serve import Config

if TYPE_CHECKING:
    from shardrun.cli.checkdir import Problem, Report

app = typer.Typer()

EXIT_PROBLEMS = 1


@app.command(
    epilog=examples(
        "shardrun check configs/workers",
        "shardrun check ./workers --config prod.toml --json | jq '.problems[] | .code'",
    )
)
def check(
    directory: Annotated[Path, typer.Argument(help="the workers directory")],
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON document")] = False,
    config: Config = None,
) -> None:
    """Validate a workers directory: names, worker.toml files, and every script compiled and loaded.

    Every problem is listed (file, stable code, message); exit 1 if any is an error, 0 if there
    are only warnings. The operator's limits and [fetch] come from the settings, as for serve.
    """
    from shardrun.cli.checkdir import check_dir, exit_now
    from shardrun.errors import ShardrunError
    from shardrun.settings import load_settings

    try:
        settings = load_settings(config)
        fetch = settings.fetch.under(settings.egress.controls(settings.serve))
    except ShardrunError as exc:
        fail(exc.code, exc.message)
    if not directory.is_dir():
        fail("E_NOT_FOUND", f"workers directory not found: {directory}")

    def stuck(report: Report, problem: Problem) -> None:
        report.problems.append(problem)
        emit(report, as_json)
        sys.stdout.flush()
        exit_now(EXIT_PROBLEMS)

    logging.getLogger("shardrun.workers").setLevel(logging.ERROR)  # its warnings are in the report
    report = check_dir(directory, settings.limits.to_limits(), fetch, settings.bindings, on_stuck=stuck)
    emit(report, as_json)
    raise typer.Exit(0 if report.ok else EXIT_PROBLEMS)


def emit(report: Report, as_json: bool) -> None:
    """The report on stdout: one line per problem and a summary, or one JSON document."""
    errors = sum(p.level == "error" for p in report.problems)
    warnings = len(report.problems) - errors
    if as_json:
        doc = {
            "directory": report.root,
            "ok": report.ok,
            "workers": report.workers,
            "errors": errors,
            "warnings": warnings,
            "problems": [p.to_dict() for p in report.problems],
        }
        sys.stdout.buffer.write(orjson.dumps(doc, option=orjson.OPT_INDENT_2) + b"\n")
        return
    lines = [f"{p.file}: {p.level} {p.code}: {p.message}" for p in report.problems]
    lines.append(f"{report.root}: {len(report.workers)} workers load, {errors} errors, {warnings} warnings")
    sys.stdout.write("\n".join(lines) + "\n")
