"""`shardrun config show`: the effective settings and where each value came from."""

from __future__ import annotations

import os
import subprocess
import sys

import orjson
import pytest
from pydantic import BaseModel

from shardrun.settings import Settings

from .conftest import ROOT

pytestmark = pytest.mark.timeout(60)


def config_show(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("SHARDRUN_")}
    return subprocess.run(
        [sys.executable, "-m", "shardrun", "config", "show", *args],
        check=False,
        capture_output=True,
        cwd=ROOT,
        env={**base, **(env or {})},
        timeout=30,
    )


def leaves(model: BaseModel, prefix: str = "") -> list[str]:
    out = []
    for name in type(model).model_fields:
        v = getattr(model, name)
        out += leaves(v, f"{prefix}{name}.") if isinstance(v, BaseModel) else [prefix + name]
    return out


@pytest.fixture
def toml(tmp_path):
    f = tmp_path / "s.toml"
    f.write_text('[serve]\nhttp_port = 8181\nshards = 3\n[limits]\ncpu_ms = 250\n[fetch]\nallow = ["a.example"]\n')
    return f


def test_each_value_says_where_it_came_from(toml):
    env = {"SHARDRUN_SERVE__SHARDS": "5", "SHARDRUN_LIMITS__WALL_MS": "900"}
    p = config_show("--config", str(toml), "--port", "9001", "--json", env=env)
    assert p.returncode == 0, p.stderr
    doc = orjson.loads(p.stdout)
    s = doc["settings"]
    assert doc["file"] == str(toml)
    # flag over environment over file over default
    assert s["serve.http_port"] == {"value": 9001, "source": "flag", "where": "--port"}
    assert s["serve.shards"] == {"value": 5, "source": "environment", "where": "SHARDRUN_SERVE__SHARDS"}
    assert s["limits.wall_ms"] == {"value": 900.0, "source": "environment", "where": "SHARDRUN_LIMITS__WALL_MS"}
    assert s["limits.cpu_ms"] == {"value": 250.0, "source": "file", "where": str(toml)}
    assert s["fetch.allow"] == {"value": ["a.example"], "source": "file", "where": str(toml)}
    assert s["serve.http_host"] == {"value": "127.0.0.1", "source": "default", "where": None}
    assert s["serve.log_level"]["source"] == "default"
    # every leaf setting is there, each with the same three keys
    assert set(s) == set(leaves(Settings())) and all(set(v) == {"value", "source", "where"} for v in s.values())


def test_every_serve_flag_reports_as_a_flag(toml):
    p = config_show(
        "serve.",
        "--config",
        str(toml),
        "--host",
        "localhost",
        "--port",
        "0",
        "--admin-port",
        "9002",
        "--log-level",
        "debug",
        "--no-access-log",
        "--shards",
        "1",
        "--mode",
        "shared",
        "--max-queued",
        "7",
        "--json",
    )
    s = orjson.loads(p.stdout)["settings"]
    flags = {k: v["where"] for k, v in s.items() if v["source"] == "flag"}
    assert flags == {
        "serve.http_host": "--host",
        "serve.http_port": "--port",
        "serve.admin_port": "--admin-port",
        "serve.log_level": "--log-level",
        "serve.access_log": "--access-log/--no-access-log",
        "serve.shards": "--shards",
        "serve.mode": "--mode",
        "serve.max_queued": "--max-queued",
    }
    assert s["serve.access_log"]["value"] is False and s["serve.http_port"]["value"] == 0


def test_a_whole_table_from_one_variable_names_that_variable():
    p = config_show("limits.cpu_ms", "--json", env={"SHARDRUN_LIMITS": '{"cpu_ms": 42}'})
    assert orjson.loads(p.stdout)["settings"]["limits.cpu_ms"] == {
        "value": 42.0,
        "source": "environment",
        "where": "SHARDRUN_LIMITS",
    }


def test_table_output_lists_settings_with_sources(toml):
    p = config_show("serve.http", "limits.cpu_ms", "--config", str(toml), "--port", "9003")
    out = p.stdout.decode()
    assert p.returncode == 0, p.stderr
    rows = {r[1].strip(): [c.strip() for c in r[2:5]] for r in (x.split("│") for x in out.splitlines()) if len(r) > 4}
    assert rows["serve.http_port"] == ["9003", "flag", "--port"]
    assert rows["limits.cpu_ms"] == ["250.0", "file", str(toml)]
    assert rows["serve.http_host"] == ["127.0.0.1", "default", ""]
    assert "{'" not in out and "Field(" not in out and "PosixPath(" not in out


def test_passwords_in_urls_are_masked():
    p = config_show(
        "sources.postgres.database_url",
        "--json",
        env={"SHARDRUN_SOURCES__POSTGRES__DATABASE_URL": "postgres://u:hunter2@127.0.0.1/db"},
    )
    assert b"hunter2" not in p.stdout
    value = orjson.loads(p.stdout)["settings"]["sources.postgres.database_url"]["value"]
    assert value == "postgres://u:***@127.0.0.1/db"


def test_errors(toml, tmp_path):
    p = config_show("--config", str(tmp_path / "missing.toml"))
    assert p.returncode == 2 and b"E_NOT_FOUND" in p.stderr
    p = config_show("nothing.like.this")
    assert p.returncode == 2 and b"no setting starts with nothing.like.this" in p.stderr
    p = config_show("--port", "123456")
    assert p.returncode == 2 and b"--port: Input should be less than or equal to 65535" in p.stderr
