"""`shardrun check DIR`: every problem of a workers directory, each with its file and stable code."""

from __future__ import annotations

import os

import orjson
import pytest

from shardrun.cli.checkdir import check_dir
from shardrun.engine.limits import Limits
from shardrun.workers import Registry

from .conftest import WORKERS, run_cli

pytestmark = pytest.mark.timeout(120)

OK = "export default { task() { return 1 } }\n"


def write(root, files):
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return root


@pytest.fixture
def bad_dir(tmp_path):
    root = tmp_path / "workers"
    return write(
        root,
        {
            "good.js": OK,
            "syntax.js": "export default { task() { return 1 }\n",
            "noexport.js": "const x = 1\n",
            "throws.js": "throw new Error('boom at load')\nexport default {}\n",
            "nohandler.js": "export default { other() {} }\n",
            "encoding.js": b"export default { task() { return '\xff' } }\n",
            "Bad_Name.js": OK,
            "cfg/index.js": OK,
            "cfg/worker.toml": 'tenant = ""\nmax_concurrency = 0\nbogus = 1\n',
            "limits/index.js": OK,
            "limits/worker.toml": "[limits]\ncpu_ms = -5\nnot_a_limit = 3\n",
            "both/index.js": "export default {\n",
            "both/worker.toml": "this is not toml\n",
            "noindex/worker.toml": "tenant = 'x'\n",
            "big/index.js": OK,
            "big/worker.toml": "[limits]\ncpu_ms = 999999\n",
            "mods/index.js": "import { x } from './lib.js'\nexport default { task() { return x } }\n",
            "mods/lib.js": "export const x = ;\n",
            "imports/index.js": "import { x } from './missing.js'\nexport default { task() { return x } }\n",
            "stray.toml": "x = 1\n",
            "README.md": "not a worker\n",
        },
    )


def problems_of(doc):
    return {(p["file"], p["code"]) for p in doc["problems"] if p["level"] == "error"}


def test_good_directory_passes():
    p = run_cli("check", str(WORKERS))
    assert p.returncode == 0, p.stdout + p.stderr
    names = Registry(WORKERS).names()  # the bundled examples, a folder worker with modules among them
    assert len(names) >= 4 and p.stdout.decode().strip().endswith(f"{len(names)} workers load, 0 errors, 0 warnings")
    doc = orjson.loads(run_cli("check", str(WORKERS), "--json").stdout)
    assert doc["ok"] is True and doc["workers"] == names and doc["problems"] == []


def test_every_problem_is_listed_with_file_and_code(bad_dir):
    p = run_cli("check", str(bad_dir), "--json")
    assert p.returncode == 1, p.stderr
    doc = orjson.loads(p.stdout)
    assert problems_of(doc) == {
        ("syntax.js", "E_COMPILE"),
        ("noexport.js", "E_NO_DEFAULT_EXPORT"),
        ("throws.js", "E_SCRIPT"),
        ("nohandler.js", "E_NO_HANDLER"),
        ("encoding.js", "E_SCRIPT_ENCODING"),
        ("Bad_Name.js", "E_BAD_NAME"),
        ("cfg/worker.toml", "E_WORKER_CONFIG"),
        ("limits/worker.toml", "E_WORKER_CONFIG"),
        ("both/worker.toml", "E_WORKER_CONFIG"),
        ("both/index.js", "E_COMPILE"),  # a bad worker.toml does not hide its script's problem
        ("noindex/", "E_NOT_FOUND"),
        ("mods/index.js", "E_COMPILE"),  # a module of a folder worker, named in the message
        ("imports/index.js", "E_IMPORT"),
    }
    assert doc["ok"] is False and doc["workers"] == ["big", "good"]
    assert doc["errors"] == 13 and doc["warnings"] == 2
    warnings = {(p["file"], p["code"]) for p in doc["problems"] if p["level"] == "warning"}
    assert warnings == {("big/worker.toml", "E_WORKER_CONFIG"), ("stray.toml", "E_WORKER_CONFIG")}
    by_file = {p["file"]: p["message"] for p in doc["problems"]}
    # the messages name the problem: all three of cfg's fields, the throw, the byte
    assert all(f in by_file["cfg/worker.toml"] for f in ("tenant", "max_concurrency", "bogus"))
    assert "boom at load" in by_file["throws.js"]
    assert "0xff" in by_file["encoding.js"]
    assert "cpu_ms" in by_file["big/worker.toml"]
    assert "not_a_limit" in by_file["limits/worker.toml"] and "positive" in by_file["limits/worker.toml"]
    assert "lib.js:1" in by_file["mods/index.js"] and "missing.js" in by_file["imports/index.js"]


def test_text_output_has_one_line_per_problem(bad_dir):
    p = run_cli("check", str(bad_dir))
    assert p.returncode == 1
    lines = p.stdout.decode().splitlines()
    assert len(lines) == 16 and lines[-1].endswith("2 workers load, 13 errors, 2 warnings")
    assert "syntax.js: error E_COMPILE: SyntaxError:" in p.stdout.decode()
    assert "{'" not in p.stdout.decode()


def test_only_warnings_exit_zero(tmp_path):
    root = write(tmp_path / "w", {"a.js": OK, "a.toml": "x = 1\n"})
    p = run_cli("check", str(root))
    assert p.returncode == 0 and b"1 warnings" in p.stdout


def test_symlink_out_of_the_directory(tmp_path):
    outside = write(tmp_path, {"outside.js": OK}) / "outside.js"
    root = tmp_path / "w"
    root.mkdir()
    os.symlink(outside, root / "link.js")
    doc = orjson.loads(run_cli("check", str(root), "--json").stdout)
    assert problems_of(doc) == {("link.js", "E_NOT_FOUND")}
    assert "inside the directory" in doc["problems"][0]["message"]


def test_operator_limits_from_the_settings(tmp_path):
    root = write(tmp_path / "w", {"a/index.js": OK, "a/worker.toml": "[limits]\ncpu_ms = 300\n"})
    conf = write(tmp_path, {"s.toml": "[limits]\ncpu_ms = 100\n"}) / "s.toml"
    doc = orjson.loads(run_cli("check", str(root), "--config", str(conf), "--json").stdout)
    assert [(p["file"], p["level"]) for p in doc["problems"]] == [("a/worker.toml", "warning")]
    doc = orjson.loads(run_cli("check", str(root), "--json").stdout)
    assert doc["problems"] == []


def test_a_slow_top_level_is_stopped_by_the_startup_limit(tmp_path):
    root = write(tmp_path / "w", {"spin.js": "for (;;) {}\nexport default { task() {} }\n", "ok.js": OK})
    report = check_dir(root, Limits(startup_ms=100))
    assert [(p.file, p.code) for p in report.problems] == [("spin.js", "E_CPU_LIMIT")] and report.workers == ["ok"]


def test_missing_directory_is_a_usage_error(tmp_path):
    p = run_cli("check", str(tmp_path / "nope"))
    assert p.returncode == 2 and orjson.loads(p.stderr)["error"]["code"] == "E_NOT_FOUND"
