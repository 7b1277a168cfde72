"""Task-source commands: `db-init`, `db-listen` (PostgreSQL) and `listen` (NATS).

`db-listen` and `listen` run a whole node (supervisor, router, shards) plus the task source;
several nodes on one table or one queue group share the work. By default such a node serves
no HTTP and its client API is an ipc socket in its runtime dir, so several run side by side.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from shardrun.cli.common import examples, fail
from shardrun.cli.serve import run_node

app = typer.Typer()

Workloops = Annotated[
    str | None, typer.Option(help='capacity split into groups: "fast_lane:1 manual>*:4"', envvar="SHARDRUN_WORKLOOPS")
]
Capacity = Annotated[int | None, typer.Option(help='task slots (same as --workloops "*:N"; default 5)')]
Shards = Annotated[int | None, typer.Option(help="shard processes (default: cores)")]
Workers = Annotated[Path | None, typer.Option(help="workers directory")]
Config = Annotated[Path | None, typer.Option(help="settings file (TOML)")]
Http = Annotated[bool, typer.Option("--http/--no-http", help="also serve HTTP (the [serve] http_port)")]
Endpoint = Annotated[str, typer.Option(help="this node's ZeroMQ client endpoint (default: an ipc socket)")]
DatabaseUrl = Annotated[str, typer.Option(help="postgres://user@host/db", envvar="DATABASE_URL")]
Table = Annotated[str, typer.Option(help="the tasks table", envvar="TASK_TABLE")]


@app.command(
    "db-init",
    epilog=examples("shardrun db-init --database-url postgres://postgres@127.0.0.1/test --table ow_tasks"),
)
def db_init(database_url: DatabaseUrl, table: Table = "ow_tasks") -> None:
    """Create the PostgreSQL tasks table (or add shardrun's columns to a task-executor table)."""
    import asyncio

    import asyncpg

    from shardrun.errors import ShardrunError
    from shardrun.sources.pgsource import init_db

    try:
        asyncio.run(init_db(database_url, table))
    except ShardrunError as exc:
        fail(exc.code, exc.message)
    except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
        fail("E_USAGE", f"cannot set up {table!r}: {type(exc).__name__}: {exc}")
    typer.echo(f"table {table} is ready (NOTIFY channel {table}_created)")


@app.command(
    "db-listen",
    epilog=examples(
        "shardrun db-listen --database-url postgres://postgres@127.0.0.1/test --capacity 8",
        "shardrun db-listen --database-url postgres://127.0.0.1/db --workloops 'fast_lane:1 manual>*:4' --http",
    ),
)
def db_listen(
    database_url: DatabaseUrl,
    table: Table = "ow_tasks",
    workloops: Workloops = None,
    capacity: Capacity = None,
    lease_s: Annotated[float | None, typer.Option(help="claim lease, renewed while a task runs")] = None,
    poll_ms: Annotated[float | None, typer.Option(help="claim at least this often (NOTIFY is only a hint)")] = None,
    shards: Shards = None,
    workers: Workers = None,
    http: Http = False,
    endpoint: Endpoint = "",
    config: Config = None,
) -> None:
    """Run tasks from a PostgreSQL table (SKIP LOCKED claims, leases, retries, dead letters)."""
    run_node(
        config,
        _node_flags(shards, workers, http, endpoint),
        {
            "workloops": workloops,
            "capacity": capacity,
            "postgres": {"database_url": database_url, "table": table, "lease_s": lease_s, "poll_ms": poll_ms},
        },
    )


@app.command(
    "listen",
    epilog=examples(
        "shardrun listen --nats nats://127.0.0.1:4222 --subject tasks --group workers",
        "shardrun listen --nats nats://127.0.0.1:4222 --jetstream --stream TASKS --max-deliver 5",
    ),
)
def listen(
    nats: Annotated[str, typer.Option(help="nats://host:port", envvar="NATS_URL")],
    subject: Annotated[
        str, typer.Option(help="tasks of queue Q arrive on SUBJECT.Q (SUBJECT: default queue)")
    ] = "tasks",
    group: Annotated[str | None, typer.Option(help="queue group shared by the nodes")] = None,
    jetstream: Annotated[
        bool, typer.Option("--jetstream/--core", help="durable JetStream consumer, or core NATS")
    ] = False,
    stream: Annotated[str | None, typer.Option(help="JetStream stream (created if missing)")] = None,
    max_deliver: Annotated[int | None, typer.Option(help="JetStream deliveries before a dead letter")] = None,
    workloops: Workloops = None,
    capacity: Capacity = None,
    shards: Shards = None,
    workers: Workers = None,
    http: Http = False,
    endpoint: Endpoint = "",
    config: Config = None,
) -> None:
    """Run tasks from NATS: a queue group with request-reply, or a JetStream durable consumer."""
    run_node(
        config,
        _node_flags(shards, workers, http, endpoint),
        {
            "workloops": workloops,
            "capacity": capacity,
            "nats": {
                "url": nats,
                "subject": subject,
                "group": group,
                "jetstream": jetstream,
                "stream": stream,
                "max_deliver": max_deliver,
            },
        },
    )


def _node_flags(shards: int | None, workers: Path | None, http: bool, endpoint: str) -> dict[str, object]:
    return {"shards": shards, "workers": workers, "http_enabled": http, "client_endpoint": endpoint}
