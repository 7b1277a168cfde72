"""One settings object for every role, built explicitly (never at import time).

Precedence, highest first: command-line flags, `SHARDRUN_*` environment variables
(nested with `__`, e.g. `SHARDRUN_LIMITS__CPU_MS=200`), the TOML file
(`--config`, else `SHARDRUN_CONFIG`, else configs/shardrun.toml when it exists), defaults.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource

from .errors import UsageError
from .limits import Limits

DEFAULT_CONFIG = Path("configs/shardrun.toml")


class LimitSettings(BaseModel):
    """Per-request and per-isolate limits (see shardrun.limits.Limits)."""

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


class Settings(BaseSettings):
    """Everything shardrun can be told."""

    model_config = SettingsConfigDict(env_prefix="SHARDRUN_", env_nested_delimiter="__", extra="forbid")

    limits: LimitSettings = Field(default_factory=LimitSettings)
    payload: PayloadSettings = Field(default_factory=PayloadSettings)

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


def load_settings(config: str | Path | None = None, **overrides: Any) -> Settings:
    """Build the settings: flags (overrides) > environment > TOML file > defaults."""
    env_path = os.environ.get("SHARDRUN_CONFIG")
    path = Path(config) if config else Path(env_path) if env_path else DEFAULT_CONFIG
    if (config or env_path) and not path.is_file():
        raise UsageError(f"config file not found: {path}", code="E_NOT_FOUND")
    if not path.is_file():
        return Settings(**overrides)
    with_file = type("Settings", (Settings,), {"model_config": {**Settings.model_config, "toml_file": path}})
    return with_file(**overrides)
