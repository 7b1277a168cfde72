"""`shardrun status` against a real server: tables with no Python reprs, and a stable --json."""

from __future__ import annotations

import orjson
import pytest

from shardrun.cli.status import COUNTS, SHARD_KEYS, TOP_KEYS

from .conftest import run_cli
from .serve_helpers import Server, free_port

pytestmark = pytest.mark.timeout(120)

WORKERS = {
    "hello.js": "export default { task(p) { return 'hello' } }",
    "throws.js": "export default { task() { throw new Error('nope') } }",
}
REPRS = ("{'", '{"', "Counter(", "True", "False", "None", "dict(", "[(")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("status"), WORKERS, shards=2)
    for _ in range(3):
        assert s.client.task("hello").ok
    for _ in range(2):
        assert s.client.task("throws").error.code == "E_SCRIPT"  # answered by a shard: its "errors"
    assert s.client.task("nope").error.code == "E_NOT_FOUND"  # refused by the router: its "errors" by code
    yield s
    s.close()


def table_rows(out: str) -> list[list[str]]:
    """The rows of the tables below the heading line (header rows included), split on blanks."""
    return [x.split() for x in out.splitlines()[1:] if x.strip()]


def test_tables_have_no_python_reprs(server):
    p = run_cli("status", "--endpoint", server.endpoint)
    assert p.returncode == 0, p.stderr
    out = p.stdout.decode()
    assert not [r for r in REPRS if r in out], out
    first = out.splitlines()[0]
    assert first.startswith("shardrun status: mode=pinned uptime_s=") and "pending=0 queued=0" in first
    rows = table_rows(out)
    shards = [r for r in rows if r[0].isdigit()]
    assert [r[0] for r in shards] == ["0", "1"] and all(r[2] == "yes" for r in shards)
    assert rows[0][:5] == ["slot", "pid", "ready", "rss_mb", "cpu_s"]
    assert ["counter", "count"] in rows and ["error", "count"] in rows
    named = {r[0]: r[1] for r in rows if len(r) == 2}
    assert named["accepted"] == "5" and named["answered"] == "5" and named["failed"] == "0"
    assert named["E_NOT_FOUND"] == "1"  # errors: one row per code
    assert sum(int(r[12]) for r in shards) == 2  # the shards' errors column


def test_json_has_the_same_keys_every_time(server):
    p = run_cli("status", "--endpoint", server.endpoint, "--json")
    assert p.returncode == 0, p.stderr
    doc = orjson.loads(p.stdout)
    assert list(doc) == [*TOP_KEYS, "counts", "errors", "shards"]
    assert all(list(s) == list(SHARD_KEYS) for s in doc["shards"])
    assert set(COUNTS) <= set(doc["counts"]) and doc["counts"]["accepted"] == 5
    assert doc["errors"] == {"E_NOT_FOUND": 1}
    assert sum(s["errors"] for s in doc["shards"]) == 2
    s0 = doc["shards"][0]
    assert s0["ready"] is True and s0["rss_mb"] > 1 and s0["cpu_s"] > 0 and isinstance(s0["pid"], int)
    assert sum(s["served"] for s in doc["shards"]) == 5


def test_no_server_is_a_clear_error():
    p = run_cli("status", "--endpoint", f"tcp://127.0.0.1:{free_port()}", "--timeout", "0.3")
    assert p.returncode == 4
    err = orjson.loads(p.stderr)["error"]
    assert err["code"] == "E_INTERNAL" and "is `shardrun serve` running?" in err["message"]


def test_the_tables_need_neither_rich_nor_pydantic(server):
    # what the start-up figure in bench/RESULTS.md rests on, with the tables printed
    from .test_cli_help import HEAVY, started_modules

    mods = started_modules("status", "--endpoint", server.endpoint)
    assert "shardrun.cli.status" in mods and "shardrun.client" in mods
    assert not [m for m in (*HEAVY, "rich") if m in mods]
