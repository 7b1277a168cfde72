"""`shardrun serve` flags: --host/--port/--admin-port/--log-level/--access-log, through real processes."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from shardrun.settings import check_host, is_loopback

from .conftest import ROOT, run_cli
from .serve_helpers import _die_with_parent, free_port

pytestmark = pytest.mark.timeout(120)

HELLO = "export default { fetch(r) { return new Response('hi ' + new URL(r.url).pathname) } }"


def get(port: int, path: str, host: str = "hello.workers.localhost") -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path, headers={"Host": host})
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def serve(tmp: Path, *flags: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """`shardrun serve --workers tmp/workers FLAGS...` with an empty settings file, output to tmp/serve.log."""
    workers = tmp / "workers"
    workers.mkdir(exist_ok=True)
    (workers / "hello.js").write_text(HELLO)
    (tmp / "empty.toml").write_text(f'[serve]\nruntime_dir = "{tmp / "run"}"\nheartbeat_ms = 100\n')
    base = {k: v for k, v in os.environ.items() if not k.startswith("SHARDRUN_")}
    with open(tmp / "serve.log", "wb") as log:  # the child keeps its own copy
        return subprocess.Popen(
            [
                *(sys.executable, "-m", "shardrun", "serve", "--config", str(tmp / "empty.toml")),
                *("--workers", str(workers), "--shards", "1", "--endpoint", f"tcp://127.0.0.1:{free_port()}"),
                *flags,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            env={**base, **(env or {})},
            preexec_fn=_die_with_parent,
        )


def wait_healthy(proc: subprocess.Popen[bytes], port: int, tmp: Path, timeout: float = 30) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        assert proc.poll() is None, (tmp / "serve.log").read_text()
        try:
            if get(port, "/_shardrun/health", "127.0.0.1")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"not healthy within {timeout}s: {(tmp / 'serve.log').read_text()[-2000:]}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def log_records(tmp: Path) -> list[dict]:
    return [json.loads(x) for x in (tmp / "serve.log").read_text().splitlines() if x.startswith("{")]


def test_port_host_and_admin_port_flags_serve_there(tmp_path):
    port, admin = free_port(), free_port()
    # the flag wins over the environment, which would put HTTP elsewhere
    proc = serve(
        tmp_path,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--admin-port",
        str(admin),
        env={"SHARDRUN_SERVE__HTTP_PORT": str(free_port())},
    )
    try:
        wait_healthy(proc, admin, tmp_path)
        assert get(port, "/abc") == (200, b"hi /abc")
        assert get(port, "/_shardrun/health", "127.0.0.1")[0] == 404  # admin endpoints only on --admin-port
        logs = log_records(tmp_path)
        assert any(r.get("event") == "request" for r in logs)  # the access log is on by default
    finally:
        stop(proc)


def test_no_access_log_and_log_level_flags(tmp_path):
    port = free_port()
    proc = serve(tmp_path, "--port", str(port), "--no-access-log", "--log-level", "warning")
    try:
        wait_healthy(proc, port, tmp_path)
        assert get(port, "/x") == (200, b"hi /x")
        stop(proc)
        logs = log_records(tmp_path)
        assert not any(r.get("event") == "request" for r in logs)
        assert logs == [r for r in logs if r["level"] in ("warning", "error", "critical")]
    finally:
        stop(proc)


def test_info_level_logs_where_http_listens(tmp_path):
    port = free_port()
    proc = serve(tmp_path, "--port", str(port), "--log-level", "info")
    try:
        wait_healthy(proc, port, tmp_path)
        assert any(f"127.0.0.1:{port}" in r.get("event", "") for r in log_records(tmp_path))
    finally:
        stop(proc)


@pytest.mark.parametrize(
    "flags,words",
    [
        (["--port", "70000"], "--port: Input should be less than or equal to 65535 (got 70000)"),
        (["--port", "-1"], "--port: Input should be greater than or equal to 0"),
        (["--admin-port", "99999"], "--admin-port:"),
        (["--host", "not a host"], "--host: not an IP address or a host name: 'not a host'"),
        (["--host", "10.0.0.999"], "--host:"),
        (["--log-level", "loud"], "--log-level: Input should be 'debug', 'info', 'warning' or 'error'"),
        (["--mode", "fast"], "--mode:"),
    ],
)
def test_bad_flag_values_are_usage_errors_naming_the_flag(tmp_path, flags, words):
    p = run_cli("serve", "--workers", str(tmp_path), *flags)
    assert p.returncode == 2, p.stderr
    err = orjson.loads(p.stderr.strip().splitlines()[-1])["error"]
    assert err["code"] == "E_USAGE" and words in err["message"], err


def test_a_bad_environment_value_names_the_setting(tmp_path):
    env = {**os.environ, "SHARDRUN_SERVE__HTTP_PORT": "eighty"}
    p = subprocess.run(
        [sys.executable, "-m", "shardrun", "serve", "--workers", str(tmp_path)],
        check=False,
        capture_output=True,
        cwd=ROOT,
        env=env,
        timeout=30,
    )
    err = orjson.loads(p.stderr.strip().splitlines()[-1])["error"]
    assert p.returncode == 2 and err["code"] == "E_USAGE" and err["message"].startswith("serve.http_port:"), err


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "0.0.0.0", "localhost", "node-1.example.org", "a.b.", "fe80::1"])
def test_check_host_accepts_addresses_and_names(host):
    assert check_host(host) == host


@pytest.mark.parametrize(
    "host", ["", "a b", "-a.example", "a-.example", "x" * 64 + ".org", "1.2.3.256", "10.0.0", "a..b", "h_st"]
)
def test_check_host_refuses_the_rest(host):
    with pytest.raises(ValueError, match="not an IP address or a host name"):
        check_host(host)


def test_loopback_or_not():
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost") and is_loopback("127.9.9.9")
    assert not is_loopback("0.0.0.0") and not is_loopback("10.1.2.3") and not is_loopback("node.example.org")
