"""`shardrun run`: one task (or one fetch) in a fresh isolate, in this process."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import orjson
import typer

from shardrun.cli.common import examples, fail, parse_request, print_log, print_outcome
from shardrun.errors import EXIT_LIMIT, ShardrunError, UsageError

if TYPE_CHECKING:
    from shardrun.runtime.calls import Call

app = typer.Typer()


def _stuck(call: Call) -> None:
    """The watchdog found JS that will not yield: report and end the process at once."""
    msg = (
        f"the request used more than its CPU budget of {call.cpu_budget * 1000:g} ms in code the engine "
        "could not interrupt; the process was stopped"
    )
    os.write(2, orjson.dumps({"error": {"code": "E_CPU_LIMIT", "message": msg}}) + b"\n")
    os._exit(EXIT_LIMIT)


@app.command(
    epilog=examples(
        """shardrun run configs/workers/hello.js --payload '{"name": "x"}'""",
        "shardrun run configs/workers/echo.js --request 'POST https://echo.workers.localhost/a' --body hi",
        "shardrun run worker.js --cpu-ms 50 --memory-mb 16 -e API_KEY=k --allow api.example.com",
    )
)
def run(
    file: Annotated[Path, typer.Argument(help="the worker script (an ES module with a default export)")],
    payload: Annotated[str, typer.Option(help="JSON payload for the task handler")] = "{}",
    request: Annotated[str | None, typer.Option(help="call the fetch handler instead: 'METHOD URL'")] = None,
    header: Annotated[
        list[str], typer.Option("--header", "-H", help="a request header 'Name: value' (repeatable)")
    ] = [],  # noqa: B006
    body: Annotated[str | None, typer.Option(help="request body text, or @FILE")] = None,
    scheduled: Annotated[bool, typer.Option(help="call the scheduled handler (payload is the event)")] = False,
    timeout: Annotated[float | None, typer.Option(help="wall-clock limit in ms")] = None,
    cpu_ms: Annotated[float | None, typer.Option(help="CPU budget in ms")] = None,
    memory_mb: Annotated[int | None, typer.Option(help="isolate heap cap in MB")] = None,
    env: Annotated[list[str], typer.Option("--env", "-e", help="an env binding NAME=value (repeatable)")] = [],  # noqa: B006
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="do not print console output")] = False,
    allow: Annotated[
        list[str],
        typer.Option("--allow", help="a host fetch() may reach: host, host:port, *.suffix (repeatable; default: none)"),
    ] = [],  # noqa: B006
    config: Annotated[Path | None, typer.Option(help="settings file (TOML)")] = None,
) -> None:
    """Run one task (or one fetch) in a fresh isolate and print its result.

    The task's return value is printed as JSON on stdout; console output goes to stderr.
    Exit codes: 0 ok, 1 script error, 2 bad usage, 3 limit exceeded, 4 internal error.
    """
    from shardrun.runtime.jsonin import parse_payload
    from shardrun.runtime.script import Script
    from shardrun.settings import load_settings

    try:
        settings = load_settings(config)
        flags = {
            k: v for k, v in {"wall_ms": timeout, "cpu_ms": cpu_ms, "memory_mb": memory_mb}.items() if v is not None
        }
        if timeout is not None and cpu_ms is None:
            flags["cpu_ms"] = min(settings.limits.cpu_ms, timeout)
        for k, v in flags.items():
            if v <= 0:
                raise UsageError(f"--{k.replace('_', '-')} must be positive, got {v:g}")
        limits = settings.limits.model_copy(update=flags).to_limits()
        bindings: dict[str, str] = {}
        for item in env:
            name, sep, value = item.partition("=")
            if not sep or not name.isidentifier():
                raise UsageError(f"--env must look like NAME=value, got {item!r}")
            bindings[name] = value
        arg: Any
        if request is not None:
            kind, arg = "fetch", parse_request(request, header, body)
        else:
            kind = "scheduled" if scheduled else "task"
            arg = parse_payload(payload, max_depth=settings.payload.max_depth, max_bytes=settings.payload.max_bytes)
        script = Script.from_path(file)
        policy = settings.fetch.model_validate(
            {**settings.fetch.model_dump(), "allow": (*settings.fetch.allow, *allow)}
        ).under(settings.egress.controls(settings.serve))
    except ShardrunError as exc:
        fail(exc.code, exc.message)
    except ValueError as exc:  # a bad --allow entry
        fail("E_USAGE", str(exc))

    from shardrun.cli.oneshot import run_once

    result = run_once(
        script, kind, arg, limits, bindings, on_stuck=_stuck, on_log=None if quiet else print_log, fetch=policy
    )
    print_outcome(result.ok, result.value, result.error)
