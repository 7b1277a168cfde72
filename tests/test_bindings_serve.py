"""env bindings in a real server: the bundled notes worker (KV + D1) on two shards."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from .serve_helpers import ROOT, Server

NOTES = ROOT / "configs" / "workers" / "notes"


@pytest.fixture
def server(tmp_path: Path) -> Any:
    s = Server(
        tmp_path,
        {"notes/index.js": (NOTES / "index.js").read_text(), "notes/worker.toml": (NOTES / "worker.toml").read_text()},
        tables={"bindings": {"data_dir": str(tmp_path / "data")}},
    )
    yield s
    s.close()


def test_the_notes_example_keeps_its_data(server: Server, tmp_path: Path) -> None:
    r = server.client.fetch("notes", "POST", "/", body=b"first note")
    assert r.ok, r.error
    assert r.value.status == 201 and orjson.loads(r.value.body) == {"id": 1}
    t = server.client.task("notes", {"text": "from a task"})
    assert t.ok, t.error
    r = server.client.fetch("notes", "GET", "/")
    out = orjson.loads(r.value.body)
    assert out["visits"] == 2 and [n["text"] for n in out["notes"]] == ["from a task", "first note"]
    assert (tmp_path / "data" / "kv.sqlite3").is_file() and list((tmp_path / "data" / "d1").glob("*/notes.sqlite3"))
