"""`shardrun run`: output, exit codes and errors, through a real child process."""

from __future__ import annotations

import time

import orjson
import pytest

from .conftest import run_cli


def error_of(proc) -> dict:
    return orjson.loads(proc.stderr.strip().splitlines()[-1])["error"]


def test_task_result_on_stdout_console_on_stderr(workers_dir):
    p = run_cli("run", str(workers_dir / "hello.js"), "--payload", '{"name": "tests"}')
    assert p.returncode == 0, p.stderr
    out = orjson.loads(p.stdout)
    assert out["greeting"] == "Hello, tests!"
    assert b'[log] task payload: {"name":"tests"}' in p.stderr


def test_quiet_drops_console_output(workers_dir):
    p = run_cli("run", str(workers_dir / "hello.js"), "--quiet")
    assert p.returncode == 0 and p.stderr == b""


def test_fetch_request_prints_status_headers_and_body(workers_dir):
    p = run_cli(
        "run",
        str(workers_dir / "echo.js"),
        "--request",
        "POST https://echo.workers.localhost/a?b=1",
        "-H",
        "X-Test: yes",
        "--body",
        "hello body",
    )
    assert p.returncode == 0, p.stderr
    head, _, body = p.stdout.partition(b"\n\n")
    assert head.splitlines()[0] == b"200"
    assert b"content-type: application/json" in head
    echoed = orjson.loads(body)
    assert echoed == {
        "method": "POST",
        "url": "https://echo.workers.localhost/a?b=1",
        "headers": {"x-test": "yes"},
        "body": "hello body",
    }


def test_env_bindings(workers_dir):
    p = run_cli("run", str(workers_dir / "echo.js"), "-e", "API_KEY=k", "--payload", "[1]")
    assert orjson.loads(p.stdout) == {"payload": [1], "env": ["API_KEY"]}


@pytest.mark.parametrize(
    "payload,words",
    [
        ("{bad", "invalid JSON payload"),
        ('{"a": NaN}', "invalid JSON payload"),
        ("1e400", "infinity"),
        ('{"a": 1, "a": 2}', "duplicate key 'a'"),
        ("[" * 100 + "]" * 100, "nests 100 levels deep"),
    ],
)
def test_bad_payload_is_a_usage_error(workers_dir, payload, words):
    p = run_cli("run", str(workers_dir / "hello.js"), "--payload", payload)
    assert p.returncode == 2
    e = error_of(p)
    assert e["code"] == "E_BAD_JSON" and words in e["message"]


def test_missing_file_is_a_usage_error(tmp_path):
    p = run_cli("run", str(tmp_path / "nope.js"))
    assert p.returncode == 2 and error_of(p)["code"] == "E_NOT_FOUND"


def test_a_folder_worker_runs_with_its_modules_and_a_bad_import_exits_1(workers_dir, tmp_path):
    p = run_cli("run", str(workers_dir / "shop"), "--payload", '{"item": "cake", "qty": 2}')
    assert p.returncode == 0, p.stderr
    assert orjson.loads(p.stdout) == {"item": "cake", "qty": 2, "total": 840, "currency": "EUR"}
    (tmp_path / "index.js").write_text("import { x } from '../x.js'; export default { task() { return x } }")
    p = run_cli("run", str(tmp_path))
    e = error_of(p)
    assert p.returncode == 1 and e["code"] == "E_IMPORT" and "the path leaves the worker's directory" in e["message"]


def test_invalid_utf8_script_names_the_byte(tmp_path):
    f = tmp_path / "bad.js"
    f.write_bytes(b"export default {\n  task() { return '\xff' }\n}\n")
    p = run_cli("run", str(f))
    assert p.returncode == 1
    e = error_of(p)
    assert e["code"] == "E_SCRIPT_ENCODING" and "0xff at 2:" in e["message"]


def test_script_error_exit_code(tmp_path):
    f = tmp_path / "throws.js"
    f.write_text("export default { task() { throw new Error('nope') } }")
    p = run_cli("run", str(f))
    assert p.returncode == 1
    e = error_of(p)
    assert e["code"] == "E_SCRIPT" and e["message"] == "nope" and "throws.js" in e["stack"]


def test_limit_exit_code(tmp_path):
    f = tmp_path / "loop.js"
    f.write_text("export default { task() { for (;;) {} } }")
    p = run_cli("run", str(f), "--cpu-ms", "100")
    assert p.returncode == 3 and error_of(p)["code"] == "E_CPU_LIMIT"


def test_bad_request_line(workers_dir):
    p = run_cli("run", str(workers_dir / "hello.js"), "--request", "GET /relative")
    assert p.returncode == 2 and "absolute" in error_of(p)["message"]


def test_native_heavy_loop_is_stopped_by_the_watchdog(tmp_path):
    # indexOf over a large array runs in native code and dodges the engine's interrupt
    # counter (fault matrix row 2): the watchdog must stop it near budget + grace.
    f = tmp_path / "native.js"
    f.write_text(
        "export default { task() { const a = new Array(2e6).fill(1); for (let i = 0; i < 9000; i++) a.indexOf(2); return 1 } }"
    )
    t0 = time.monotonic()
    p = run_cli("run", str(f), "--cpu-ms", "300", "--timeout", "60000")
    elapsed = time.monotonic() - t0
    assert p.returncode == 3, p.stderr
    assert error_of(p)["code"] == "E_CPU_LIMIT"
    assert elapsed < 5, elapsed
