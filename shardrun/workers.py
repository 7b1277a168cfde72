"""The workers registry: a directory of worker scripts and their optional worker.toml.

    DIR/<name>.js                       a worker whose tenant is its name
    DIR/<name>/index.js                 a worker with a folder: its entry module ...
    DIR/<name>/lib.js, sub/x.mjs ...    ... the modules it may import ("./lib.js"; see runtime/script.py) ...
    DIR/<name>/worker.toml              ... and its settings:

        tenant = "user-42"              # the user_id that picks the shard
        max_concurrency = 64            # requests in flight for this worker
        console = true                  # log its console output (false: drop it)
        [limits]                        # any of shardrun.engine.limits.Limits' fields
        cpu_ms = 50
        [env]                           # bindings passed as `env` to this worker only
        GREETING = "hi"
        [secrets]                       # also in `env`, never logged or shown in stats
        API_KEY = "..."
        [fetch]                         # egress: deny by default (see shardrun.egress.policy)
        allow = ["api.example.com", "*.example.org"]
        max_subrequests = 10            # limits: at most the server's [fetch] (more is clamped, and logged)
        [task]                          # defaults for this worker's queued tasks
        timeout_ms = 5000
        max_retries = 2
        retry_delay_ms = 1000
        [[kv_namespaces]]               # env bindings, wrangler's names (see shardrun.bindings.config)
        binding = "KV"
        id = "cache"
        [assets]                        # static files, served before `fetch` (see shardrun.assets)
        directory = "public"            # a subfolder of the worker's folder
        binding = "ASSETS"              # optional; run_worker_first, html_handling, not_found_handling
        [triggers]                      # cron triggers fire `scheduled` (see shardrun.sources.schedule)
        crons = ["*/5 * * * *"]

Names are strict (`[a-z0-9][a-z0-9_-]{0,63}`): anything else is E_BAD_NAME, so no
request can reach a path outside DIR. A worker is read again when one of the files and
folders it was read from changes (size, mtime or inode: an edit of any of its modules, a
file added to its folder), so an edit takes effect on the next request under a new code
version.
"""

from __future__ import annotations

import logging
import os
import re
import stat
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shardrun.assets.files import AssetConfig, Assets, resolve_directory
from shardrun.bindings.assets import AssetsEntry
from shardrun.bindings.config import NO_BINDINGS, Binding, BindingSettings, WorkerBindings, with_binding
from shardrun.bindings.config import parse as parse_bindings
from shardrun.egress.policy import FetchPolicy, merge
from shardrun.engine.limits import Limits
from shardrun.errors import ScriptError, UsageError
from shardrun.runtime.script import Script, Stamp, stamp_of
from shardrun.sources.schedule import TriggerConfig

log = logging.getLogger("shardrun.workers")
NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
MAX_TOML_BYTES = 1 << 20


class TaskPolicy(BaseModel):
    """[task] of a worker.toml: how the task sources treat this worker's tasks (unset: the source's own)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    timeout_ms: float | None = Field(None, gt=0, description="wall limit of a task (a task's own timeout still wins)")
    max_retries: int | None = Field(None, ge=0, le=100, description="retries after the first attempt")
    retry_delay_ms: float | None = Field(None, ge=0, description="backoff before the first retry; doubles")
    priority: int = Field(
        0,
        ge=-1000,
        le=1000,
        description="its tasks' place in a busy shard's queue: higher first (a task's own priority wins)",
    )

    def attempts(self, default: int) -> int:
        """Attempts of a task: this worker's retries + 1, else the source's default."""
        return self.max_retries + 1 if self.max_retries is not None else default

    def delay_ms(self, default: float) -> float:
        """Backoff before the first retry: this worker's, else the source's default."""
        return self.retry_delay_ms if self.retry_delay_ms is not None else default


class WorkerConfig(BaseModel):
    """worker.toml, validated."""

    model_config = ConfigDict(extra="forbid")

    tenant: str | None = Field(None, min_length=1, max_length=256, description="the user_id that picks the shard")
    max_concurrency: int | None = Field(None, ge=1, le=100_000)
    console: bool = Field(True, description="log this worker's console output (with tenant and worker)")
    idempotent: bool = Field(
        False,
        description="its requests may run twice: when its shard dies under one, "
        "the router sends it once more to the replacement",
    )
    limits: dict[str, float] = Field(default_factory=dict)
    env: dict[str, str] = Field(default_factory=dict)
    secrets: dict[str, str] = Field(default_factory=dict)
    fetch: dict[str, Any] = Field(
        default_factory=dict, description="over the [fetch] of the settings; its limits can only be lowered"
    )
    task: TaskPolicy = Field(default_factory=TaskPolicy)
    assets: AssetConfig | None = Field(None, description="static files served under the worker")
    triggers: TriggerConfig = Field(default_factory=TriggerConfig, description="cron triggers of `scheduled`")


@dataclass(frozen=True)
class WorkerSpec:
    """One loaded worker: name, tenant, script (with its version), limits and env."""

    name: str
    tenant: str
    script: Script
    limits: Limits
    env: dict[str, Any] = field(default_factory=dict)
    max_concurrency: int | None = None
    console: bool = True
    fetch: FetchPolicy = field(default_factory=FetchPolicy)
    task: TaskPolicy = field(default_factory=TaskPolicy)
    idempotent: bool = False
    clamped: tuple[
        str, ...
    ] = ()  # limits its worker.toml asked to raise (the operator's apply): cpu_ms, fetch.timeout_ms...
    bindings: WorkerBindings = NO_BINDINGS  # env bindings ([[kv_namespaces]]...) and their caps
    assets: Assets | None = None
    crons: tuple[str, ...] = ()

    @property
    def version(self) -> str:
        return self.script.version


def check_name(name: str) -> str:
    """The name, if it is a valid worker name; else E_BAD_NAME."""
    if not isinstance(name, str) or not NAME.fullmatch(name):
        shown = name[:80] if isinstance(name, str) else type(name).__name__
        raise UsageError(
            f"invalid worker name {shown!r}: use 1-64 of a-z, 0-9, '_' and '-', starting with a letter or digit",
            code="E_BAD_NAME",
        )
    return name


class Registry:
    """Workers found in a directory, re-read when their files change."""

    def __init__(
        self,
        root: str | Path,
        defaults: Limits | None = None,
        fetch: FetchPolicy | None = None,
        bindings: BindingSettings | None = None,
    ) -> None:
        self.root = Path(root).resolve()
        self.binding_settings = bindings or BindingSettings()
        self.defaults = defaults or Limits()
        self.fetch_defaults = fetch or FetchPolicy()
        self._cache: dict[str, tuple[WorkerSpec, tuple[tuple[str, Stamp], ...]]] = {}
        # With epochs on (a server loop calls recheck() once per wake-up), a worker's files are
        # stat'ed at its first get of a wake-up only; 0 (off): at every get.
        self._epoch = 0
        self._checked: dict[str, int] = {}

    def recheck(self) -> None:
        """A new wake-up of the owner's loop: each worker's files are checked again at its next
        get(), once until the next recheck(). An edit applies to every request read after it
        (requests read in the same wake-up as an edit arrived with it, and may see either)."""
        self._epoch += 1

    def names(self) -> list[str]:
        """Every worker name in the directory."""
        out = []
        for entry in sorted(self.root.iterdir()):
            if entry.suffix == ".js" and NAME.fullmatch(entry.stem) and entry.is_file():
                out.append(entry.stem)
            elif entry.is_dir() and NAME.fullmatch(entry.name) and (entry / "index.js").is_file():
                out.append(entry.name)
        return out

    def get(self, name: str) -> WorkerSpec:
        """The current spec of a worker; E_BAD_NAME, E_NOT_FOUND or a ScriptError if it is broken."""
        hit = self._cache.get(name)
        if hit is not None:
            spec, watch = hit
            epoch = self._epoch
            if epoch and self._checked.get(name) == epoch:
                return spec  # checked already in this wake-up
            # Fast path: the files and folders it was read from are unchanged (a stat call each).
            try:
                if all(stamp_of(os.stat(path)) == stamp for path, stamp in watch):
                    if epoch:
                        self._checked[name] = epoch
                    return spec
            except OSError:
                pass
            del self._cache[name]
            self._checked.pop(name, None)
        check_name(name)
        single, folder = self._paths(name)
        toml = folder / "worker.toml" if single is None else None
        cfg, bindings, toml_watch = self._config(
            name, toml if toml is not None and self._is_file_inside(toml) else None
        )
        skip: tuple[Path, ...] = ()
        if cfg.assets is not None:  # its files are not modules (nor part of the code version)
            try:
                skip = (resolve_directory(folder, cfg.assets),)
            except ValueError:
                pass  # _load reports it
        script = Script.from_path(single) if single is not None else Script.from_dir(folder, name, skip)
        spec = self._load(name, script, cfg, bindings)
        self._cache[name] = (spec, script.watch + toml_watch)
        if self._epoch:
            self._checked[name] = self._epoch
        return spec

    def _paths(self, name: str) -> tuple[Path | None, Path]:
        """DIR/<name>.js, or else the folder DIR/<name> with an index.js; E_NOT_FOUND if neither."""
        single = self.root / f"{name}.js"
        folder = self.root / name
        if self._is_file_inside(single):
            return single, folder
        if self._is_file_inside(folder / "index.js"):
            return None, folder
        raise UsageError(f"no worker named {name!r}", code="E_NOT_FOUND")

    def _is_file_inside(self, p: Path) -> bool:
        try:
            st = p.stat()
        except OSError:
            return False
        if not stat.S_ISREG(st.st_mode):
            return False
        real = Path(os.path.realpath(p))
        return real.is_relative_to(self.root)

    def _config(
        self, name: str, toml_path: Path | None
    ) -> tuple[WorkerConfig, WorkerBindings, tuple[tuple[str, Stamp], ...]]:
        """The worker.toml, validated (defaults without one), its bindings, and its stamp as it was read."""
        if toml_path is None:
            return WorkerConfig(), NO_BINDINGS, ()
        try:
            with open(toml_path, "rb") as f:
                st = os.fstat(f.fileno())
                watch = ((str(toml_path), stamp_of(st)),)
                data = f.read(min(st.st_size, MAX_TOML_BYTES) + 1)
        except OSError as exc:
            raise ScriptError(f"cannot read {name}/worker.toml: {exc.strerror}", code="E_WORKER_CONFIG") from None
        if len(data) > MAX_TOML_BYTES:
            raise ScriptError(f"{name}/worker.toml is over the limit of {MAX_TOML_BYTES} bytes", code="E_WORKER_CONFIG")
        try:
            raw = tomllib.loads(data.decode("utf-8"))
            names = {str(k) for part in ("env", "secrets") if isinstance(raw.get(part), dict) for k in raw[part]}
            bindings = parse_bindings(name, raw, self.binding_settings, names)  # takes its sections out of raw
            return WorkerConfig.model_validate(raw), bindings, watch
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ScriptError(f"{name}/worker.toml is not valid TOML: {exc}", code="E_WORKER_CONFIG") from None
        except ValidationError as exc:
            raise ScriptError(f"{name}/worker.toml: {_problems(exc)}", code="E_WORKER_CONFIG") from None

    def _load(self, name: str, script: Script, cfg: WorkerConfig, bindings: WorkerBindings) -> WorkerSpec:
        fields = Limits.__dataclass_fields__
        unknown = set(cfg.limits) - set(fields)
        bad = [
            k for k, v in cfg.limits.items() if k in fields and (v <= 0 or (fields[k].type == "int" and v != int(v)))
        ]
        if unknown or bad:  # both at once: `shardrun check` lists every problem
            problems = [f"unknown limits {sorted(unknown)} (known: {sorted(fields)})"] if unknown else []
            problems += [f"limits must be positive (and whole numbers for sizes): {sorted(bad)}"] if bad else []
            raise ScriptError(f"{name}/worker.toml: {'; '.join(problems)}", code="E_WORKER_CONFIG")
        # A worker's own limits can lower the operator's, never raise them: asking for more gets the operator's.
        asked = {k: int(v) if fields[k].type == "int" else float(v) for k, v in cfg.limits.items()}
        clamped = tuple(sorted(k for k, v in asked.items() if v > getattr(self.defaults, k)))
        if clamped:
            log.warning(
                "%s/worker.toml asks for more than the operator's limits %s; the operator's apply", name, list(clamped)
            )
        limits = self.defaults.with_(**{k: min(v, getattr(self.defaults, k)) for k, v in asked.items()})
        both = set(cfg.env) & set(cfg.secrets)
        if both:
            raise ScriptError(f"{name}/worker.toml: {sorted(both)} in both [env] and [secrets]", code="E_WORKER_CONFIG")
        try:
            fetch, fetch_clamped = merge(self.fetch_defaults, cfg.fetch)
        except ValidationError as exc:
            raise ScriptError(f"{name}/worker.toml: [fetch] {_problems(exc)}", code="E_WORKER_CONFIG") from None
        if fetch_clamped:  # once per load of the file: the spec is cached until it changes
            log.warning(
                "%s/worker.toml: [fetch] asks for more than the server's [fetch] allows, clamped: %s",
                name,
                ", ".join(f"{k} {a:.15g} -> {kept:.15g}" for k, (a, kept) in sorted(fetch_clamped.items())),
            )
        clamped += tuple(f"fetch.{k}" for k in sorted(fetch_clamped))
        assets = None
        if cfg.assets is not None:  # (only a folder has a worker.toml)
            try:
                assets = Assets(resolve_directory(self.root / name, cfg.assets), cfg.assets)
            except ValueError as exc:
                raise ScriptError(f"{name}/worker.toml: assets.directory: {exc}", code="E_WORKER_CONFIG") from None
            if cfg.assets.binding is not None:  # env.ASSETS (shardrun/bindings/assets.py)
                b = cfg.assets.binding
                entry = AssetsEntry(binding=b, root=assets.root, config=cfg.assets)
                names = set(cfg.env) | set(cfg.secrets)
                binding = Binding(b, "assets", "assets", entry)
                bindings = with_binding(name, bindings, binding, "assets.binding", self.binding_settings, names)
        return WorkerSpec(
            name,
            cfg.tenant or name,
            script,
            limits,
            {**cfg.env, **cfg.secrets},
            cfg.max_concurrency,
            cfg.console,
            fetch,
            cfg.task,
            cfg.idempotent,
            clamped,
            bindings,
            assets,
            cfg.triggers.crons,
        )


def _problems(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
