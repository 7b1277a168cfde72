"""The `shardrun` command line: thin typer commands that parse, build settings and call in."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Annotated, Any, NoReturn
from urllib.parse import urlsplit

import orjson
import typer

from .calls import Call, HttpRequest, HttpResponse, LogLine
from .errors import EXIT_LIMIT, ShardrunError, UsageError, exit_code
from .jsonin import parse_payload
from .script import Script
from .settings import load_settings

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


_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _fail(code: str, message: str, stack: str = "") -> NoReturn:
    err: dict[str, Any] = {"code": code, "message": message}
    if stack:
        err["stack"] = stack
    sys.stderr.write(orjson.dumps({"error": err}).decode() + "\n")
    raise typer.Exit(exit_code(code))


def _parse_request(spec: str, headers: list[str], body: str | None) -> HttpRequest:
    method, _, url = spec.strip().partition(" ")
    method, url = method.upper(), url.strip()
    if not url:
        method, url = "GET", spec.strip()
    if method not in METHODS:
        raise UsageError(f"--request: unknown method {method!r} (use one of {', '.join(METHODS)})")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(f"--request: the URL must be absolute http(s), got {url!r}")
    pairs = []
    for h in headers:
        name, sep, value = h.partition(":")
        if not sep or not _TOKEN.fullmatch(name.strip()) or any(c in value for c in "\r\n\0"):
            raise UsageError(f"--header must look like 'Name: value' with a valid name, got {h!r}")
        pairs.append((name.strip(), value.strip()))
    data = None
    if body is not None:
        if body.startswith("@"):
            try:
                data = Path(body[1:]).read_bytes()
            except OSError as exc:
                raise UsageError(f"--body: cannot read {body[1:]}: {exc.strerror}", code="E_NOT_FOUND") from None
        else:
            data = body.encode()
    return HttpRequest(method, url, pairs, data)


def _print_log(line: LogLine) -> None:
    sys.stderr.write(f"[{line.level}] {line.text}\n")
    sys.stderr.flush()


def _stuck(call: Call) -> None:
    """The watchdog found JS that will not yield: report and end the process at once."""
    msg = (f"the request used more than its CPU budget of {call.cpu_budget * 1000:g} ms in code the engine "
           "could not interrupt; the process was stopped")
    os.write(2, orjson.dumps({"error": {"code": "E_CPU_LIMIT", "message": msg}}) + b"\n")
    os._exit(EXIT_LIMIT)


@app.command()
def run(
    file: Annotated[Path, typer.Argument(help="the worker script (an ES module with a default export)")],
    payload: Annotated[str, typer.Option(help="JSON payload for the task handler")] = "{}",
    request: Annotated[str | None, typer.Option(help="call the fetch handler instead: 'METHOD URL'")] = None,
    header: Annotated[list[str], typer.Option("--header", "-H", help="a request header 'Name: value' (repeatable)")] = [],  # noqa: B006
    body: Annotated[str | None, typer.Option(help="request body text, or @FILE")] = None,
    scheduled: Annotated[bool, typer.Option(help="call the scheduled handler (payload is the event)")] = False,
    timeout: Annotated[float | None, typer.Option(help="wall-clock limit in ms")] = None,
    cpu_ms: Annotated[float | None, typer.Option(help="CPU budget in ms")] = None,
    memory_mb: Annotated[int | None, typer.Option(help="isolate heap cap in MB")] = None,
    env: Annotated[list[str], typer.Option("--env", "-e", help="an env binding NAME=value (repeatable)")] = [],  # noqa: B006
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="do not print console output")] = False,
    allow: Annotated[list[str], typer.Option("--allow", help="a host fetch() may reach: host, host:port, *.suffix "
                                                            "(repeatable; default: none)")] = [],  # noqa: B006
    config: Annotated[Path | None, typer.Option(help="settings file (TOML)")] = None,
) -> None:
    """Run one task (or one fetch) in a fresh isolate and print its result.

    The task's return value is printed as JSON on stdout; console output goes to stderr.
    Exit codes: 0 ok, 1 script error, 2 bad usage, 3 limit exceeded, 4 internal error.
    """
    try:
        settings = load_settings(config)
        flags = {k: v for k, v in {"wall_ms": timeout, "cpu_ms": cpu_ms, "memory_mb": memory_mb}.items() if v is not None}
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
            kind, arg = "fetch", _parse_request(request, header, body)
        else:
            kind = "scheduled" if scheduled else "task"
            arg = parse_payload(payload, max_depth=settings.payload.max_depth, max_bytes=settings.payload.max_bytes)
        script = Script.from_path(file)
        policy = settings.fetch.model_validate({**settings.fetch.model_dump(), "allow": (*settings.fetch.allow, *allow)}
                                               ).under(settings.egress.controls(settings.serve))
    except ShardrunError as exc:
        _fail(exc.code, exc.message)
    except ValueError as exc:  # a bad --allow entry
        _fail("E_USAGE", str(exc))

    from .driver import run_once

    result = run_once(script, kind, arg, limits, bindings, on_stuck=_stuck, on_log=None if quiet else _print_log,
                      fetch=policy)
    _print_outcome(result.ok, result.value, result.error)


def _print_outcome(ok: bool, value: Any, err: Any) -> None:
    """Print a task's JSON or a response (status, headers, blank line, body); exit non-zero on error."""
    if not ok:
        _fail(err.code, err.message, err.stack)
    if isinstance(value, HttpResponse):
        out = [f"{value.status} {value.status_text}".rstrip()] + [f"{k}: {v}" for k, v in value.headers] + ["", ""]
        sys.stdout.buffer.write("\n".join(out).encode() + value.body)
        if value.body and not value.body.endswith(b"\n"):
            sys.stdout.buffer.write(b"\n")
    else:
        sys.stdout.buffer.write(orjson.dumps(value) + b"\n")
    sys.stdout.flush()


def main() -> None:
    """Console-script entry point."""
    app()


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
    from .settings import Settings
    from .supervisor import run_supervisor

    try:
        settings = load_settings(config)
        update = {k: v for k, v in serve_flags.items() if v is not None}
        merged = settings.model_dump()
        merged["serve"].update(update)
        for name, value in (source_flags or {}).items():   # {"capacity": 4, "postgres": {"table": ...}}
            if isinstance(value, dict):
                merged["sources"][name].update({k: v for k, v in value.items() if v is not None})
            elif value is not None:
                merged["sources"][name] = value
        settings = Settings.model_validate(merged)
        if not settings.serve.workers.is_dir():
            raise UsageError(f"workers directory not found: {settings.serve.workers}", code="E_NOT_FOUND")
        from .sources.workloops import from_flags
        from_flags(settings.sources.workloops, settings.sources.capacity)
    except ShardrunError as exc:
        _fail(exc.code, exc.message)
    except ValueError as exc:  # pydantic validation
        _fail("E_USAGE", str(exc))
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
    from .client import DEFAULT_DOMAIN, Client

    try:
        if request is not None:
            spec = request if " " in request.strip() else f"GET {request}"
            method, _, path = spec.strip().partition(" ")
            url = path.strip()
            if url.startswith("/"):
                url = f"https://{worker}.{DEFAULT_DOMAIN}{url}"
            req = _parse_request(f"{method} {url}", header, body)
            kind, arg = "fetch", req.to_js()
        else:
            kind, arg = "task", parse_payload(payload)
    except ShardrunError as exc:
        _fail(exc.code, exc.message)
    with Client(endpoint, timeout) as c:
        try:
            reply = c.call(worker, kind, arg, tenant=tenant)
        except TimeoutError as exc:
            _fail("E_INTERNAL", f"no reply from {endpoint}: {exc} (is `shardrun serve` running?)")
    if not quiet:
        for level, text in reply.logs:
            _print_log(LogLine(level, text))
    _print_outcome(reply.ok, reply.value, reply.error)


@app.command()
def status(
    endpoint: Annotated[str, typer.Option(help="the router's client endpoint")] = "tcp://127.0.0.1:7700",
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Per-shard state of a running server: pid, RSS, CPU, cache, in-flight, restarts."""
    import psutil
    from rich.console import Console
    from rich.table import Table

    from .client import Client

    with Client(endpoint, 5.0) as c:
        try:
            st = c.status()
        except TimeoutError:
            _fail("E_INTERNAL", f"no reply from {endpoint} (is `shardrun serve` running?)")
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
    cols = ["slot", "pid", "ready", "rss_mb", "cpu_percent", "cached", "hits", "misses", "evictions", "inflight", "served", "restarts"]
    for col in cols:
        t.add_column(col, justify="right")
    for s in st["shards"]:
        t.add_row(*[str(s.get(col, "")) for col in cols])
    out = Console() if sys.stdout.isatty() else Console(width=160)
    out.print(t)
    out.print(f"counts: {st['counts']}  errors: {st['errors']}")


from . import cli_bench, cli_chaos, cli_tasks  # noqa: E402,F401  (register their commands)
