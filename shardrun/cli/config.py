"""`shardrun config show`: the effective settings, each with where its value came from.

The sources, highest first: a flag (the serve flags, as `shardrun serve` takes them), a
`SHARDRUN_*` environment variable, the settings file, the default.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import orjson
import typer

from shardrun.cli.common import examples, fail
from shardrun.cli.serve import (
    SERVE_FLAGS,
    AccessLog,
    AdminPort,
    Config,
    Endpoint,
    Host,
    LogLevel,
    MaxQueued,
    Mode,
    Port,
    Shards,
    Workers,
    given_flags,
)

if TYPE_CHECKING:
    from pydantic_settings import BaseSettings

app = typer.Typer()
config_app = typer.Typer(help="The settings shardrun runs with.", no_args_is_help=True)
app.add_typer(config_app, name="config")

PREFIX = "SHARDRUN_"
URL_PASSWORD = re.compile(r"(?<=://)([^/@:]*):[^/@]*@")


def origins(settings: BaseSettings, flags: dict[str, Any], file: Path | None) -> dict[str, dict[str, Any]]:
    """Every leaf setting ("serve.http_port") -> {value, source (flag|environment|file|default), where}."""
    import tomllib

    from pydantic import BaseModel
    from pydantic_settings import EnvSettingsSource

    env = EnvSettingsSource(type(settings))()
    in_file = tomllib.loads(file.read_text("utf-8")) if file is not None else {}
    environ = {k.upper(): k for k in os.environ}
    out: dict[str, dict[str, Any]] = {}

    def has(tree: Any, path: list[str]) -> bool:
        for part in path:
            if not isinstance(tree, dict) or part not in tree:
                return False
            tree = tree[part]
        return True

    def walk(model: BaseModel, path: list[str]) -> None:
        for name in type(model).model_fields:
            value, here = getattr(model, name), [*path, name]
            if isinstance(value, BaseModel):
                walk(value, here)
                continue
            key = ".".join(here)
            if here[0] == "serve" and len(here) == 2 and here[1] in flags:
                source, where = "flag", SERVE_FLAGS.get(here[1], here[1])
            elif has(env, here):
                names = [PREFIX + "__".join(here[:i]).upper() for i in range(len(here), 0, -1)]
                source, where = "environment", next((environ[n] for n in names if n in environ), names[0])
            elif has(in_file, here):
                source, where = "file", str(file)
            else:
                source, where = "default", None
            out[key] = {
                "value": _shown(model.model_dump(mode="json", include={name})[name]),
                "source": source,
                "where": where,
            }

    walk(settings, [])
    return out


def _shown(value: Any) -> Any:
    """A value to print: a password in a URL is masked."""
    if isinstance(value, str):
        return URL_PASSWORD.sub(r"\1:***@", value)
    return value


@config_app.command(
    "show",
    epilog=examples(
        "shardrun config show",
        "shardrun config show serve.http --port 9000",
        "SHARDRUN_LIMITS__CPU_MS=200 shardrun config show limits --json",
    ),
)
def show(
    keys: Annotated[
        list[str] | None, typer.Argument(help="only the settings starting with these (e.g. serve.http)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON document")] = False,
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
    """The effective settings of `shardrun serve` given the same flags, and where each value came from."""
    from shardrun.cli.serve import node_settings
    from shardrun.errors import ShardrunError
    from shardrun.settings import config_path

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
    try:
        file = config_path(config)
        settings = node_settings(config, flags)
    except ShardrunError as exc:
        fail(exc.code, exc.message)
    rows = {k: v for k, v in origins(settings, flags, file).items() if not keys or any(k.startswith(p) for p in keys)}
    if keys and not rows:
        fail("E_NOT_FOUND", f"no setting starts with {' or '.join(keys)}")
    if as_json:
        doc = {"file": str(file) if file else None, "settings": rows}
        sys.stdout.buffer.write(orjson.dumps(doc, option=orjson.OPT_INDENT_2) + b"\n")
        return
    from rich.console import Console
    from rich.table import Table

    out = Console() if sys.stdout.isatty() else Console(width=200)
    t = Table(title=f"settings (file: {file or 'none'})")
    for col in ("setting", "value", "source", "where"):
        t.add_column(col, overflow="fold")
    for k, v in rows.items():
        value = v["value"]
        shown = value if isinstance(value, str) else orjson.dumps(value).decode()
        t.add_row(k, shown, v["source"], v["where"] or "")
    out.print(t, markup=False, highlight=False)
