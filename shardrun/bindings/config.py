"""Binding declarations in worker.toml (wrangler's names) and the operator's [bindings] settings.

    [[kv_namespaces]]        binding = "KV",  id = "cache"
    [[d1_databases]]         binding = "DB",  database_name = "app"
    [[queues.producers]]     binding = "JOBS", queue = "mail"
    [bindings.caps.kv]       calls = 100, concurrent = 4     # lower the operator's per-request caps

`parse(raw)` takes the binding sections out of a worker.toml's table (the rest is WorkerConfig's),
checks them against the binding types in shardrun.bindings.types.TYPES and returns the worker's
bindings plus its caps (each at most the operator's). Every problem is a ScriptError E_WORKER_CONFIG
naming the field.
"""

from __future__ import annotations

import errno
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from shardrun.errors import RuntimeFault, ScriptError

BINDING_NAME = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]{0,63}")
STORE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
# wrangler sections shardrun does not offer (a clear error instead of "extra inputs")
UNSUPPORTED = (
    "r2_buckets",
    "durable_objects",
    "services",
    "vectorize",
    "hyperdrive",
    "analytics_engine_datasets",
    "ai",
    "browser",
    "mtls_certificates",
    "dispatch_namespaces",
    "send_email",
    "workflows",
)


class Cap(BaseModel):
    """Per-request caps of one binding type: calls in all, and calls in flight at once (more wait)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    calls: int = Field(ge=0, le=1_000_000, description="binding calls one request may make (more: E_BINDING_LIMIT)")
    concurrent: int = Field(ge=1, le=10_000, description="calls of one request in flight at once (more wait)")


class BindingSettings(BaseModel):
    """[bindings]: where binding data lives and the per-request caps (a worker.toml can only lower them)."""

    model_config = ConfigDict(extra="forbid")

    data_dir: Path = Field(
        Path("data"), description="KV's SQLite file and the D1 databases (made at start; must be writable)"
    )
    caps: dict[str, Cap] = Field(
        default_factory=dict, description="per binding kind (kv, d1, queue): calls, concurrent; unset: the defaults"
    )
    kv_backend: str = Field("sqlite", pattern=r"^(sqlite|postgres)$", description="sqlite (per node) or postgres")
    kv_database_url: str | None = Field(
        None, description="postgres KV: postgres://... (default: [sources.postgres] database_url)"
    )
    kv_table: str = Field("shardrun_kv", pattern=r"^[a-z_][a-z0-9_]{0,62}$", description="postgres KV table")
    sql_statement_ms: float = Field(1_000, gt=0, le=600_000, description="longest run of one D1 statement")
    sql_max_mb: int = Field(500, ge=1, le=1 << 20, description="largest D1 database (SQLite max_page_count)")
    queue_database_url: str | None = Field(
        None, description="queue producers' task table (default: [sources.postgres] database_url)"
    )
    queue_table: str | None = Field(
        None, pattern=r"^[a-z_][a-z0-9_]{0,62}$", description="(default: [sources.postgres] table)"
    )

    @field_validator("caps")
    @classmethod
    def _known_kinds(cls, v: dict[str, Cap]) -> dict[str, Cap]:
        from shardrun.bindings.types import KINDS

        unknown = sorted(set(v) - set(KINDS))
        if unknown:
            raise ValueError(f"unknown binding kinds {unknown} (known: {', '.join(KINDS)})")
        return v

    def cap(self, kind: str, default: Cap) -> Cap:
        return self.caps.get(kind, default)


@dataclass(frozen=True)
class Binding:
    """One binding of a worker: its env name, type (the worker.toml section) and checked entry."""

    name: str
    section: str  # "kv_namespaces", "d1_databases", "queues.producers"
    kind: str  # "kv", "d1", "queue": the caps and metrics label
    entry: BaseModel


@dataclass(frozen=True)
class WorkerBindings:
    """A worker's bindings (by env name) and its caps per kind."""

    by_name: dict[str, Binding]
    caps: dict[str, Cap]

    def js_spec(self) -> list[list[str]]:
        """What the JS side needs to build env: [[name, kind], ...]."""
        return [[b.name, b.kind] for b in self.by_name.values()]


NO_BINDINGS = WorkerBindings({}, {})


def _sections(raw: dict[str, Any]) -> list[tuple[str, Any]]:
    """Take every binding section (known or not) out of a worker.toml table."""
    from shardrun.bindings.types import TYPES

    found = []
    for section in TYPES:
        head, _, sub = section.partition(".")
        if not sub:
            if head in raw:
                found.append((section, raw.pop(head)))
            continue
        parent = raw.get(head)
        if isinstance(parent, dict) and sub in parent:
            found.append((section, parent.pop(sub)))
            if not parent:
                raw.pop(head)
    for head in UNSUPPORTED:
        if head in raw:
            found.append((head, raw.pop(head)))
    parent = raw.get("queues")
    if isinstance(parent, dict):  # [[queues.consumers]] and the like
        for sub in list(parent):
            found.append((f"queues.{sub}", parent.pop(sub)))
        raw.pop("queues")
    return found


def parse(name: str, raw: dict[str, Any], operator: BindingSettings, env_names: set[str]) -> WorkerBindings:
    """The bindings of worker `name` from its worker.toml table (the binding sections are removed from it)."""
    from shardrun.bindings.types import TYPES

    def bad(msg: str) -> ScriptError:
        return ScriptError(f"{name}/worker.toml: {msg}", code="E_WORKER_CONFIG")

    by_name: dict[str, Binding] = {}
    where: dict[str, str] = {}
    for section, entries in _sections(raw):
        kind = TYPES.get(section)
        if kind is None:
            known = ", ".join(f"[[{s}]]" for s in TYPES)
            raise bad(f"[[{section}]]: unknown binding type (shardrun has {known})")
        if not isinstance(entries, list):
            raise bad(f"{section}: must be an array of tables ([[{section}]])")
        for i, entry in enumerate(entries):
            field = f"{section}[{i}]"
            try:
                checked = kind.entry.model_validate(entry)
            except ValidationError as exc:
                problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or '-'}: {e['msg']}" for e in exc.errors())
                raise bad(f"{field}: {problems}") from None
            bname: str = checked.binding  # type: ignore[attr-defined]
            if not BINDING_NAME.fullmatch(bname):
                raise bad(f"{field}.binding: {bname[:80]!r} is not a valid name (a JS identifier of at most 64)")
            if bname in where:
                raise bad(f"{field}.binding: {bname!r} is already bound by {where[bname]}")
            if bname in env_names:
                raise bad(f"{field}.binding: {bname!r} is also a name in [env] or [secrets]")
            where[bname] = field
            by_name[bname] = Binding(bname, section, kind.kind, checked)
    asked = raw.pop("bindings", None)
    caps = _caps(asked, operator, bad)
    # (its caps are kept when it set some: a binding may still come from elsewhere, see with_binding)
    return WorkerBindings(by_name, caps) if by_name or asked is not None else NO_BINDINGS


def with_binding(
    name: str, wb: WorkerBindings, b: Binding, field: str, operator: BindingSettings, env_names: set[str]
) -> WorkerBindings:
    """The worker's bindings plus one declared outside the binding sections ([assets] binding),
    checked like theirs: a valid name, bound once, not also in [env] or [secrets]."""

    def bad(msg: str) -> ScriptError:
        return ScriptError(f"{name}/worker.toml: {msg}", code="E_WORKER_CONFIG")

    if not BINDING_NAME.fullmatch(b.name):
        raise bad(f"{field}: {b.name[:80]!r} is not a valid name (a JS identifier of at most 64)")
    other = wb.by_name.get(b.name)
    if other is not None:
        raise bad(f"{field}: {b.name!r} is already bound by [[{other.section}]]")
    if b.name in env_names:
        raise bad(f"{field}: {b.name!r} is also a name in [env] or [secrets]")
    caps = wb.caps or _caps(None, operator, bad)
    return WorkerBindings({**wb.by_name, b.name: b}, caps)


def _caps(raw: Any, operator: BindingSettings, bad: Any) -> dict[str, Cap]:
    from shardrun.bindings.types import KINDS

    caps = {k: operator.cap(k, t.default_cap) for k, t in KINDS.items()}
    if raw is None:
        return caps
    if not isinstance(raw, dict) or set(raw) - {"caps"}:
        raise bad("[bindings] takes only caps ([bindings.caps.kv] calls = ..., concurrent = ...)")
    asked = raw.get("caps", {})
    if not isinstance(asked, dict):
        raise bad("[bindings.caps] must be a table of kinds")
    for kind, v in asked.items():
        if kind not in KINDS:
            raise bad(f"bindings.caps.{kind}: unknown kind (known: {', '.join(KINDS)})")
        if not isinstance(v, dict) or set(v) - {"calls", "concurrent"}:
            raise bad(f"bindings.caps.{kind}: takes calls and concurrent")
        for k, n in v.items():
            if type(n) is not int or n < 0 or (k == "concurrent" and n < 1):
                raise bad(f"bindings.caps.{kind}.{k}: must be a whole number (concurrent at least 1)")
        # a worker may lower the operator's caps, never raise them
        cur = caps[kind]
        caps[kind] = Cap(
            calls=min(v.get("calls", cur.calls), cur.calls),
            concurrent=min(v.get("concurrent", cur.concurrent), cur.concurrent),
        )
    return caps


def check_data_dir(path: Path) -> Path:
    """Make the data directory and prove it is writable; a boot error (E_DATA_DIR) if not."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        why = os.strerror(exc.errno) if exc.errno else str(exc)
        if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            why += " (the server needs to write there)"
        raise RuntimeFault(
            f"the bindings data directory {str(path)!r} is not writable: {why} (set [bindings] data_dir)",
            code="E_DATA_DIR",
        ) from None
    return path
