"""`shardrun serve` (a node: supervisor, router, shards) and `invoke` against one.

The serve flags are shared with `shardrun config show`, which reports what a `serve` with the
same flags would run with. Flags win over `SHARDRUN_*` variables, which win over the file.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from shardrun.cli.common import examples, fail, parse_request, print_log, print_outcome, validation_message

if TYPE_CHECKING:
    from shardrun.settings import Settings

app = typer.Typer()

Config = Annotated[
    Path | None, typer.Option(help="settings file (TOML; default: SHARDRUN_CONFIG, configs/shardrun.toml)")
]
Shards = Annotated[int | None, typer.Option(help="shard processes (default: cores)")]
Mode = Annotated[str | None, typer.Option(help="pinned | shared | oneshot")]
Workers = Annotated[Path | None, typer.Option(help="workers directory")]
Endpoint = Annotated[str | None, typer.Option(help="ZeroMQ client endpoint (loopback)")]
MaxQueued = Annotated[int | None, typer.Option(help="requests waiting for a shard, in all")]
Host = Annotated[
    str | None,
    typer.Option(
        help="HTTP listen address, an IP or a host name (default 127.0.0.1; other than loopback: reachable from the network)"
    ),
]
Port = Annotated[int | None, typer.Option(help="HTTP port, 0-65535 (default 8080; 0: any free port)")]
AdminPort = Annotated[int | None, typer.Option(help="serve health, stats and /metrics only on this port")]
LogLevel = Annotated[str | None, typer.Option(help="debug | info | warning | error (default info)")]
AccessLog = Annotated[bool | None, typer.Option("--access-log/--no-access-log", help="one log line per HTTP request")]

# serve setting -> the flag that sets it (for messages and `config show`)
SERVE_FLAGS = {
    "shards": "--shards",
    "mode": "--mode",
    "workers": "--workers",
    "client_endpoint": "--endpoint",
    "max_queued": "--max-queued",
    "http_host": "--host",
    "http_port": "--port",
    "admin_port": "--admin-port",
    "log_level": "--log-level",
    "access_log": "--access-log/--no-access-log",
}


def given_flags(**given: Any) -> dict[str, Any]:
    """The serve settings given on the command line, by setting name (None: not given)."""
    names = {"endpoint": "client_endpoint", "host": "http_host", "port": "http_port"}
    return {names.get(k, k): v for k, v in given.items() if v is not None}


@app.command(
    epilog=examples(
        "shardrun serve --shards 2 --host 127.0.0.1 --port 8080",
        "shardrun serve --workers ./workers --port 0 --no-access-log --log-level warning",
        "SHARDRUN_SERVE__HTTP_PORT=9000 shardrun serve --config prod.toml",
    )
)
def serve(
    shards: Shards = None,
    mode: Mode = None,
    workers: Workers = None,
    endpoint: Endpoint = None,
    max_queued: MaxQueued = None,
    host: Host = None,
    port: Port = None,
    admin_port: AdminPort = None,
    log_level: LogLevel = None,
    access_log: AccessLog = None,
    config: Config = None,
) -> None:
    """Serve the workers: a supervisor, a router and N shard processes."""
    flags = given_flags(
        shards=shards,
        mode=mode,
        workers=workers,
        endpoint=endpoint,
        max_queued=max_queued,
        host=host,
        port=port,
        admin_port=admin_port,
        log_level=log_level,
        access_log=access_log,
    )
    run_node(config, flags)


def node_settings(
    config: Path | None, serve_flags: dict[str, Any], source_flags: dict[str, Any] | None = None
) -> Settings:
    """The settings a node runs with: the flags over `load_settings` (environment, file, defaults).

    Raises a ShardrunError, or E_USAGE naming each bad value (by its flag when it came from one).
    """
    from pydantic import ValidationError

    from shardrun.errors import UsageError
    from shardrun.settings import Settings, load_settings

    try:
        settings = load_settings(config)
        merged = settings.model_dump()
        merged["serve"].update({k: v for k, v in serve_flags.items() if v is not None})
        for name, value in (source_flags or {}).items():  # {"capacity": 4, "postgres": {"table": ...}}
            if isinstance(value, dict):
                merged["sources"][name].update({k: v for k, v in value.items() if v is not None})
            elif value is not None:
                merged["sources"][name] = value
        return Settings.model_validate(merged)
    except ValidationError as exc:
        flags = {f"serve.{k}": SERVE_FLAGS.get(k, k) for k in serve_flags}
        raise UsageError(validation_message(exc, flags)) from None


def run_node(config: Path | None, serve_flags: dict[str, Any], source_flags: dict[str, Any] | None = None) -> NoReturn:
    """Build the settings (flags win) and run a supervisor until it stops; exit with its code."""
    from shardrun.errors import ShardrunError, UsageError

    try:
        settings = node_settings(config, serve_flags, source_flags)
        if not settings.serve.workers.is_dir():
            raise UsageError(f"workers directory not found: {settings.serve.workers}", code="E_NOT_FOUND")
        from shardrun.sources.workloops import from_flags

        from_flags(settings.sources.workloops, settings.sources.capacity)
        from shardrun.bindings.config import check_data_dir

        check_data_dir(settings.bindings.data_dir)
    except ShardrunError as exc:
        fail(exc.code, exc.message)
    except ValueError as exc:  # a bad --workloops
        fail("E_USAGE", str(exc))
    from shardrun.server.supervisor import run_supervisor

    update = {k: v for k, v in serve_flags.items() if v is not None}
    raise typer.Exit(run_supervisor(settings, str(config) if config else None, update))


@app.command(
    epilog=examples(
        """shardrun invoke hello --payload '{"name": "x"}'""",
        "shardrun invoke hello --request 'GET /path' -H 'Accept: text/plain'",
        "shardrun invoke hello --tenant user-7 --endpoint tcp://127.0.0.1:7700",
        "shardrun invoke events --request 'GET /feed' --stream",
    )
)
def invoke(
    worker: Annotated[str, typer.Argument(help="worker name")],
    payload: Annotated[str, typer.Option(help="JSON payload for the task handler")] = "{}",
    tenant: Annotated[str | None, typer.Option(help="run as this tenant (default: the worker's own)")] = None,
    request: Annotated[str | None, typer.Option(help="call the fetch handler: 'METHOD /path'")] = None,
    header: Annotated[list[str], typer.Option("--header", "-H", help="a request header (repeatable)")] = [],  # noqa: B006
    body: Annotated[str | None, typer.Option(help="request body text, or @FILE")] = None,
    endpoint: Annotated[str, typer.Option(help="the router's client endpoint")] = "tcp://127.0.0.1:7700",
    timeout: Annotated[float, typer.Option(help="seconds to wait for the reply")] = 60.0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="do not print the worker's console output")] = False,
    stream: Annotated[
        bool, typer.Option("--stream", help="with --request: write the body to stdout as it arrives (status on stderr)")
    ] = False,
) -> None:
    """Send one request to a running server and print the reply."""
    from shardrun.client import DEFAULT_DOMAIN, Client
    from shardrun.errors import ShardrunError
    from shardrun.runtime.calls import LogLine
    from shardrun.runtime.jsonin import parse_payload

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
    if stream:
        if request is None or tenant is not None:
            fail("E_USAGE", "--stream takes --request (a fetch) and no --tenant")
        return _stream(worker, req, endpoint, timeout)
    with Client(endpoint, timeout) as c:
        try:
            reply = c.call(worker, kind, arg, tenant=tenant)
        except TimeoutError as exc:
            fail("E_INTERNAL", f"no reply from {endpoint}: {exc} (is `shardrun serve` running?)")
    if not quiet:
        for level, text in reply.logs:
            print_log(LogLine(level, text))
    print_outcome(reply.ok, reply.value, reply.error)


def _stream(worker: str, req: Any, endpoint: str, timeout: float) -> None:
    """`invoke --stream`: the status line on stderr, the body's pieces on stdout as they come."""
    from shardrun.client import Client
    from shardrun.errors import ShardrunError

    out = sys.stdout.buffer
    with Client(endpoint, timeout) as c:
        try:
            for part in c.stream(worker, req.method, req.url, req.headers, req.body, timeout=timeout):
                if isinstance(part, bytes):
                    out.write(part)
                    out.flush()
                    continue
                sys.stderr.write(f"{part.status} {part.status_text}".rstrip() + "\n")
                if part.body:
                    out.write(part.body)
                    out.flush()
        except ShardrunError as exc:
            fail(exc.code, exc.message)
        except TimeoutError as exc:
            fail("E_INTERNAL", f"no reply from {endpoint}: {exc} (is `shardrun serve` running?)")
