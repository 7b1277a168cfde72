"""One settings object for every role, built explicitly (never at import time).

Precedence, highest first: command-line flags, `SHARDRUN_*` environment variables
(nested with `__`, e.g. `SHARDRUN_LIMITS__CPU_MS=200`), the TOML file
(`--config`, else `SHARDRUN_CONFIG`, else configs/shardrun.toml when it exists), defaults.
"""

from __future__ import annotations

import ipaddress
import os
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource

from shardrun.bindings.config import BindingSettings
from shardrun.egress.policy import DEFAULT_DENY, FetchPolicy, Operator, parse_deny
from shardrun.engine.limits import Limits
from shardrun.errors import UsageError

DEFAULT_CONFIG = Path("configs/shardrun.toml")
_HOST_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")


def check_host(host: str) -> str:
    """A listen address: an IPv4/IPv6 literal or a DNS name (RFC 1123 labels); else ValueError."""
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        pass
    labels = (host[:-1] if host.endswith(".") else host).split(".")
    if len(host) > 253 or not all(_HOST_LABEL.fullmatch(label) for label in labels) or labels[-1].isdigit():
        raise ValueError(f"not an IP address or a host name: {host[:80]!r}")
    return host


def is_loopback(host: str) -> bool:
    """The listen address is a loopback literal or `localhost` (a name could resolve anywhere)."""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host.rstrip(".").lower() == "localhost"


class LimitSettings(BaseModel):
    """Per-request and per-isolate limits (see shardrun.engine.limits.Limits)."""

    cpu_ms: float = Field(Limits.cpu_ms, gt=0, description="CPU budget of one request, over all its JS turns")
    wall_ms: float = Field(Limits.wall_ms, gt=0, description="wall-clock deadline of one request")
    memory_mb: int = Field(Limits.memory_mb, ge=1, le=4096, description="heap cap of one isolate")
    stack_kb: int = Field(Limits.stack_kb, ge=64, le=4096, description="JS stack cap of one isolate")
    startup_ms: float = Field(Limits.startup_ms, gt=0, description="CPU budget of a script's top level")
    grace_ms: float = Field(Limits.grace_ms, ge=0, description="watchdog grace after the CPU budget")
    max_output_bytes: int = Field(Limits.max_output_bytes, ge=1, description="largest task result or response body")
    max_log_bytes: int = Field(Limits.max_log_bytes, ge=0, description="console output kept per request")

    def to_limits(self) -> Limits:
        """The runtime's value object."""
        return Limits(**self.model_dump())


class PayloadSettings(BaseModel):
    """What a JSON payload may be before it reaches a worker."""

    max_depth: int = Field(64, ge=1, le=1000, description="deepest nesting of objects and arrays")
    max_bytes: int = Field(1 << 20, ge=1, description="largest payload")


class ServeSettings(BaseModel):
    """`shardrun serve`: processes, routing, backpressure and failure handling."""

    shards: int = Field(default_factory=lambda: os.cpu_count() or 2, ge=1, le=256, description="shard processes")
    mode: Literal["pinned", "shared", "oneshot"] = Field(
        "pinned",
        description="pinned: tenant affinity + warm cache; shared: any shard; oneshot: fresh isolate per request",
    )
    workers: Path = Field(Path("configs/workers"), description="the workers directory")
    client_endpoint: str = Field(
        "tcp://127.0.0.1:7700",
        description="ZeroMQ endpoint of the client API (loopback); empty: an ipc socket in the runtime dir",
    )
    runtime_dir: Path | None = Field(None, description="ipc sockets and heartbeat files (default: a new temp dir)")
    max_inflight_per_shard: int = Field(
        256, ge=1, description="requests a shard runs at once (async handlers interleave)"
    )
    max_queued: int | None = Field(None, ge=0, description="requests waiting for a shard, in all (default shards x 10)")
    wait_timeout_ms: float = Field(
        10_000, gt=0, description="how long a request may wait for a shard before E_OVERLOADED"
    )
    tenant_max_concurrency: int = Field(100, ge=1, description="requests of one tenant in flight before E_TENANT_LIMIT")
    tenant_max_share: float = Field(
        0.5,
        gt=0,
        le=1,
        description="the largest share of a shard's slots and of the "
        "queue one tenant may hold (then its requests wait, or get E_TENANT_LIMIT)",
    )
    reply_grace_ms: float = Field(
        5_000, gt=0, description="after a request's wall limit, how long the router waits for its shard"
    )
    heartbeat_ms: float = Field(200, gt=0, description="shard heartbeat interval")
    heartbeat_timeout_ms: float = Field(10_000, gt=0, description="a shard silent this long is killed and replaced")
    tenant_max_running: int = Field(
        128,
        ge=1,
        description="requests of one tenant a shard has started and not finished; "
        "the rest wait in the tenant's run queue in that shard (turns are shared "
        "round-robin between tenants)",
    )
    shard_rss_soft_mb: int | None = Field(
        None, ge=0, description="shard RSS over this: evict cold isolates (default: 75% of the hard ceiling; 0: never)"
    )
    shard_rss_hard_mb: int | None = Field(
        None,
        ge=0,
        description="shard RSS over this: the shard hands its slot to a "
        "replacement, finishes what it runs and exits (default: 75% of "
        "shard_max_address_mb, else 80% of the machine's memory shared by the shards; 0: never)",
    )
    graceful_timeout_s: float = Field(30, ge=0, description="SIGTERM: how long in-flight work may drain")
    drain_s: float = Field(
        0,
        ge=0,
        le=3600,
        description="SIGTERM: first answer health 503 this long while still serving every request, so a "
        "load balancer's health checks move the traffic away; then stop intake and drain",
    )
    respawn_burst: int = Field(
        5, ge=1, description="deaths of one shard within respawn_window_s before respawns slow down"
    )
    respawn_window_s: float = Field(10, gt=0)
    http_enabled: bool = Field(True, description="serve HTTP (the front door) from the router")
    access_log: bool = Field(True, description="one structured log line per HTTP request")
    log_level: Literal["debug", "info", "warning", "error"] = Field("info", description="lowest level logged")
    http_host: str = Field(
        "127.0.0.1",
        description="HTTP listen address: an IP literal or a host name (loopback by default; any other "
        "address serves the workers, and the admin endpoints unless admin_port is set, to the network)",
    )
    http_port: int = Field(8080, ge=0, le=65535, description="HTTP port (0: any free port)")
    admin_port: int | None = Field(
        None, ge=0, le=65535, description="serve health, stats and /metrics only on this port"
    )
    worker_domains: list[str] = Field(
        default_factory=lambda: ["workers.localhost"], description="Host: <worker>.<domain> routes to that worker"
    )
    http_max_header_bytes: int = Field(16 << 10, ge=1024, description="request headers over this get 431")
    http_max_body_bytes: int = Field(
        1 << 20,
        ge=0,
        description="request bodies over this get 413 (from Content-Length before they are read, or when a streamed body passes it)",
    )
    http_header_timeout_s: float = Field(10, gt=0, description="a request's headers must arrive within this (else 408)")
    http_body_timeout_s: float = Field(30, gt=0, description="a request's body must arrive within this (else 408)")
    http_max_connections_per_ip: int = Field(256, ge=1, description="open connections from one address before 503")
    http_keepalive_timeout_s: float = Field(5, gt=0, description="idle keep-alive connections are closed after this")
    http_max_connections: int | None = Field(
        None,
        ge=1,
        description="open HTTP connections in all before 503 (default: "
        "min(10000, the router's open-files limit less a reserve))",
    )
    http_max_open_files: int = Field(
        0, ge=0, description="the router's soft RLIMIT_NOFILE (0: raised to the hard limit)"
    )
    cache_max_isolates: int | None = Field(
        None,
        ge=1,
        description="warm isolates per shard (seed: SNAPSHOT_CACHE_MAX; default: as many as the "
        "shard's soft RSS ceiling holds at ~400 KB each, at least 1,000)",
    )
    cache_max_mb: int | None = Field(
        None, ge=1, description="engine heap of a shard's warm isolates (default: 70% of the soft RSS ceiling)"
    )
    reuse_cap: int = Field(1_000, ge=1, description="requests an isolate serves before it is replaced")
    spare_isolates: int = Field(4, ge=0, description="prepared isolates a shard keeps ready for cold starts")
    shard_max_address_mb: int | None = Field(
        None,
        ge=0,
        description="RLIMIT_AS of a shard process, the backstop behind the per-isolate heap cap "
        "(default: the machine's memory shared by the shards, at least 4096; 0: none)",
    )
    shard_max_open_files: int = Field(1024, ge=64, description="RLIMIT_NOFILE of a shard process")

    @field_validator("http_host")
    @classmethod
    def _check_host(cls, v: str) -> str:
        return check_host(v)

    def queue_cap(self) -> int:
        return self.max_queued if self.max_queued is not None else self.shards * 10


class EgressSettings(BaseModel):
    """The operator's controls over fetch(): what no worker.toml allow entry can open."""

    deny: list[str] = Field(
        default_factory=lambda: list(DEFAULT_DENY),
        description="networks (CIDR), addresses and hosts (or *.suffix) no fetch reaches: "
        "checked after the worker's allow list, on every address of every hop",
    )
    deny_server_ports: bool = Field(
        True, description="refuse this server's own ports (HTTP, admin, client API) on any address"
    )
    internal_requires_allow: bool = Field(
        False,
        description="worker-to-worker fetch needs the callee's host (<worker>.<domain>) in the caller's [fetch] allow",
    )

    @field_validator("deny")
    @classmethod
    def _check_deny(cls, v: list[str]) -> list[str]:
        for entry in v:
            parse_deny(entry)
        return v

    def controls(self, serve: ServeSettings) -> Operator:
        """The controls a process holds every worker's fetch policy under."""
        ports: set[int] = set()
        if self.deny_server_ports:
            api = serve.client_endpoint.rpartition(":")[2] if serve.client_endpoint.startswith("tcp://") else ""
            ports = {
                p
                for p in (
                    serve.http_port if serve.http_enabled else 0,
                    serve.admin_port or 0,
                    int(api) if api.isdigit() else 0,
                )
                if p
            }
        return Operator.build(self.deny, ports, self.internal_requires_allow)


class PostgresSourceSettings(BaseModel):
    """A PostgreSQL table as a task queue (`shardrun db-listen`)."""

    database_url: str | None = Field(None, description="postgres://... ; unset: no Postgres source")
    table: str = Field("ow_tasks", pattern=r"^[a-z_][a-z0-9_]{0,62}$", description="the tasks table (see db-init)")
    poll_ms: float = Field(1_000, gt=0, description="claim this often even without a NOTIFY (they get lost)")
    lease_s: float = Field(
        30,
        ge=1,
        description="a claim's lease; renewed while the task runs, a task whose lease ran out is claimed again",
    )
    retry_delay_ms: float = Field(1_000, ge=0, description="backoff after the first failure; doubles each attempt")
    retry_max_ms: float = Field(60_000, ge=0, description="longest backoff between attempts")
    max_attempts: int = Field(3, ge=1, description="attempts of a task whose row and worker say nothing")


class NatsSourceSettings(BaseModel):
    """A NATS subject as a task queue (`shardrun listen`): a queue group, or JetStream."""

    url: str | None = Field(None, description="nats://... ; unset: no NATS source")
    subject: str = Field(
        "tasks",
        pattern=r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$",
        description="tasks of queue Q arrive on SUBJECT.Q; SUBJECT alone is the default queue",
    )
    group: str = Field("shardrun", pattern=r"^[A-Za-z0-9_-]+$", description="queue group (nodes share its work)")
    jetstream: bool = Field(False, description="durable: ack after completion, redelivery, dead letters")
    stream: str = Field("SHARDRUN_TASKS", pattern=r"^[A-Za-z0-9_-]+$", description="JetStream stream (made if missing)")
    durable: str = Field("shardrun", pattern=r"^[A-Za-z0-9_-]+$", description="durable consumer name prefix")
    ack_wait_s: float = Field(30, ge=1, description="unacked this long: redelivered (extended while the task runs)")
    max_deliver: int = Field(3, ge=1, description="deliveries before a message is dead-lettered")
    retry_delay_ms: float = Field(1_000, ge=0, description="nak delay after the first failure; doubles each delivery")
    retry_max_ms: float = Field(60_000, ge=0)


class CronSettings(BaseModel):
    """Cron triggers (`[triggers] crons` of the workers): a child of the node that fires `scheduled`."""

    enabled: bool = Field(True, description="fire the workers' cron triggers from this node")
    database_url: str | None = Field(
        None,
        description="claim each firing in this PostgreSQL database, so that of several nodes one runs it "
        "(unset: [sources.postgres] database_url; neither: claims are this node's own)",
    )
    table: str = Field(
        "shardrun_cron", pattern=r"^[a-z_][a-z0-9_]{0,62}$", description="the claims table (made if missing)"
    )
    max_late_s: float = Field(
        300,
        ge=1,
        description="a firing later than this (the node was down) is skipped; of several missed, only the latest runs",
    )
    scan_s: float = Field(2, gt=0, description="how often the workers directory is read again for [triggers]")
    keep_days: float = Field(7, gt=0, description="claims older than this are deleted")


class SourceSettings(BaseModel):
    """Task sources of this node and how its task capacity is split (workloops)."""

    workloops: str | None = Field(None, description='groups like "fast_lane:1 manual>*:4"')
    capacity: int | None = Field(None, ge=1, description='task slots, the same as workloops "*:N" (default 5)')
    postgres: PostgresSourceSettings = Field(default_factory=PostgresSourceSettings)
    nats: NatsSourceSettings = Field(default_factory=NatsSourceSettings)
    cron: CronSettings = Field(default_factory=CronSettings)

    def enabled(self) -> list[str]:
        return [
            name
            for name, on in (
                ("postgres", self.postgres.database_url),
                ("nats", self.nats.url),
                ("cron", self.cron.enabled),
            )
            if on
        ]

    def cron_database_url(self) -> str | None:
        """Where cron firings are claimed: [sources.cron] database_url, else the Postgres source's; None: locally."""
        return self.cron.database_url or self.postgres.database_url


class AssetSettings(BaseModel):
    """The operator's limits on workers' static files ([assets] of a worker.toml)."""

    max_file_bytes: int = Field(
        25 << 20, ge=0, description="largest file served (a larger one: 502 E_RESPONSE_TOO_LARGE); Cloudflare's limit"
    )


class TelemetrySettings(BaseModel):
    """[telemetry]: OpenTelemetry traces (the `otel` extra); see shardrun/tracing.py."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool | None = Field(
        None, description="traces on/off; unset: on when OTEL_EXPORTER_OTLP_ENDPOINT (or ..._TRACES_ENDPOINT) is set"
    )
    endpoint: str | None = Field(
        None, max_length=2048, description="OTLP/HTTP collector URL (unset: the OTEL_EXPORTER_OTLP_* variables)"
    )
    service_name: str = Field("shardrun", min_length=1, max_length=256, description="unless OTEL_SERVICE_NAME is set")
    queue_size: int = Field(4096, ge=1, le=1_000_000, description="spans waiting for export; more are dropped")
    batch_size: int = Field(512, ge=1, le=100_000, description="spans per export request")
    export_interval_s: float = Field(1.0, gt=0, le=60, description="how often queued spans are sent")
    export_timeout_s: float = Field(2.0, gt=0, le=60, description="one export request's timeout")


class Settings(BaseSettings):
    """Everything shardrun can be told."""

    model_config = SettingsConfigDict(env_prefix="SHARDRUN_", env_nested_delimiter="__", extra="forbid")

    limits: LimitSettings = Field(default_factory=LimitSettings)
    payload: PayloadSettings = Field(default_factory=PayloadSettings)
    serve: ServeSettings = Field(default_factory=ServeSettings)
    sources: SourceSettings = Field(default_factory=SourceSettings)
    fetch: FetchPolicy = Field(
        default_factory=FetchPolicy,
        description="fetch() defaults and upper limits; a worker.toml [fetch] overrides or lowers them",
    )
    egress: EgressSettings = Field(
        default_factory=EgressSettings, description="the operator's egress controls, above every worker's [fetch]"
    )
    assets: AssetSettings = Field(default_factory=AssetSettings, description="workers' static files")
    telemetry: TelemetrySettings = Field(default_factory=TelemetrySettings, description="OpenTelemetry traces")
    bindings: BindingSettings = Field(
        default_factory=BindingSettings, description="env bindings: data directory, stores, per-request caps"
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if settings_cls.model_config.get("toml_file"):
            sources.append(TomlConfigSettingsSource(settings_cls))
        return tuple(sources)


def config_path(config: str | Path | None = None) -> Path | None:
    """The settings file in use: `--config`, else SHARDRUN_CONFIG, else configs/shardrun.toml if it exists."""
    env_path = os.environ.get("SHARDRUN_CONFIG")
    path = Path(config) if config else Path(env_path) if env_path else DEFAULT_CONFIG
    if (config or env_path) and not path.is_file():
        raise UsageError(f"config file not found: {path}", code="E_NOT_FOUND")
    return path if path.is_file() else None


def load_settings(config: str | Path | None = None, **overrides: Any) -> Settings:
    """Build the settings: flags (overrides) > environment > TOML file > defaults."""
    path = config_path(config)
    if path is None:
        return Settings(**overrides)
    with_file = type("Settings", (Settings,), {"model_config": {**Settings.model_config, "toml_file": path}})
    return with_file(**overrides)
