"""D1 databases (SQLite files in a tmp data directory) and queue producers (the real PostgreSQL table)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .bindings import Node, close_all
from .test_bindings_kv import catch, task

DB = '[[d1_databases]]\nbinding = "DB"\ndatabase_name = "app"\n'
SCHEMA = "await env.DB.exec(`CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, name TEXT, data BLOB);`);\n"


@pytest.fixture(autouse=True)
def close_nodes() -> Any:
    yield
    close_all()


def node(tmp_path: Path, js: str, toml: str = DB, **kw: Any) -> Node:
    return Node(tmp_path, {"w": (js, toml)}, **kw)


def test_d1_api_and_result_shapes(tmp_path: Path) -> None:
    js = task(
        SCHEMA
        + """
  const ins = await env.DB.prepare("INSERT INTO t (name, data) VALUES (?, ?)").bind("a", new Uint8Array([7, 8])).run();
  await env.DB.prepare("INSERT INTO t (name) VALUES (?1)").bind("b").run();
  const all = await env.DB.prepare("SELECT id, name, data FROM t ORDER BY id").all();
  const first = await env.DB.prepare("SELECT * FROM t WHERE name = ?").bind("b").first();
  const col = await env.DB.prepare("SELECT count(*) AS n FROM t").first("n");
  const none = await env.DB.prepare("SELECT * FROM t WHERE id = 99").first();
  const raw = await env.DB.prepare("SELECT id, name FROM t ORDER BY id").raw({ columnNames: true });
  const ex = await env.DB.exec("INSERT INTO t (name) VALUES ('c');\\nINSERT INTO t (name) VALUES ('d');");
  let missing; try { await env.DB.prepare("SELECT 1 AS x").first("y"); } catch (e) { missing = e.message; }
  return { ins, all, first, col, none, raw, ex: ex.count, missing, bool: (await env.DB.prepare("SELECT ? AS b").bind(true).first("b")) };
"""
    )
    v = node(tmp_path, js).value("w")
    assert v["ins"]["success"] is True and v["ins"]["results"] == []
    meta = v["ins"]["meta"]
    assert {"duration", "changes", "last_row_id", "rows_read", "rows_written", "changed_db", "size_after"} <= set(meta)
    assert (meta["changes"], meta["last_row_id"], meta["rows_written"], meta["changed_db"]) == (1, 1, 1, True)
    assert v["all"]["results"] == [{"id": 1, "name": "a", "data": [7, 8]}, {"id": 2, "name": "b", "data": None}]
    assert v["all"]["meta"]["rows_read"] == 2 and v["all"]["meta"]["changes"] == 0
    assert v["first"] == {"id": 2, "name": "b", "data": None} and v["col"] == 2 and v["none"] is None
    assert v["raw"] == [["id", "name"], [1, "a"], [2, "b"]]
    assert v["ex"] == 2 and "D1_COLUMN_NOTFOUND" in v["missing"] and v["bool"] == 1


def test_batch_is_one_transaction(tmp_path: Path) -> None:
    js = task(
        SCHEMA
        + """
  const ok = await env.DB.batch([env.DB.prepare("INSERT INTO t (name) VALUES ('x')"), env.DB.prepare("SELECT count(*) AS n FROM t")]);
  let err;
  try {
    await env.DB.batch([env.DB.prepare("INSERT INTO t (name) VALUES ('y')"), env.DB.prepare("INSERT INTO nope VALUES (1)")]);
  } catch (e) { err = e.code; }
  const n = await env.DB.prepare("SELECT count(*) AS n FROM t").first("n");
  return { shapes: ok.map((r) => r.success), n1: ok[1].results[0].n, err, n };
"""
    )
    v = node(tmp_path, js).value("w")
    assert v == {"shapes": [True, True], "n1": 1, "err": "E_SQL", "n": 1}  # the failed batch left nothing


@pytest.mark.parametrize(
    ("sql", "code", "words"),
    [
        ("SELEC 1", "E_SQL", ["syntax error", "SELEC 1"]),
        ("ATTACH DATABASE '/tmp/other.db' AS o", "E_SQL_DENIED", ["ATTACH", "not authorized"]),
        ("VACUUM INTO '/tmp/copy.db'", "E_SQL_DENIED", ["VACUUM INTO"]),
        ("PRAGMA journal_mode = DELETE", "E_SQL_DENIED", ["PRAGMA journal_mode"]),
        ("PRAGMA max_page_count = 100000000", "E_SQL_DENIED", ["max_page_count"]),
        ("SELECT load_extension('/tmp/x.so')", "E_SQL_DENIED", ["load_extension"]),
        ("BEGIN", "E_SQL_DENIED", ["batch()"]),
        (
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c",
            "E_SQL_TIMEOUT",
            ["time limit of 200 ms", "WITH RECURSIVE"],
        ),
    ],
)
def test_sql_refusals_and_errors(tmp_path: Path, sql: str, code: str, words: list[str]) -> None:
    v = node(tmp_path, catch(f"env.DB.prepare({sql!r}).all()"), sql_statement_ms=200).value("w")
    assert v.get("code") == code, v
    for w in words:
        assert w in v["message"]
    assert not Path("/tmp/copy.db").exists()


def test_allowed_pragmas_work(tmp_path: Path) -> None:
    js = task(SCHEMA + 'return (await env.DB.prepare("PRAGMA table_info(t)").all()).results.map((r) => r.name)')
    assert node(tmp_path, js).value("w") == ["id", "name", "data"]


def test_database_size_cap(tmp_path: Path) -> None:
    js = catch(
        'env.DB.exec("CREATE TABLE b (x BLOB)").then(() => env.DB.prepare('
        '"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 4) '
        'INSERT INTO b SELECT randomblob(500000) FROM c").run())'
    )
    v = node(tmp_path, js, sql_max_mb=1).value("w")
    assert v.get("code") == "E_DB_FULL", v


def test_corrupt_database_fails_the_call_not_the_host(tmp_path: Path) -> None:
    n = node(tmp_path, catch('env.DB.prepare("SELECT 1 AS x").first("x")'))
    assert n.value("w") == {"ok": 1}
    (path,) = (tmp_path / "data" / "d1").glob("*/app.sqlite3")
    n.stores.forget(n.registry.get("w").tenant, "app")
    for suffix in ("-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    path.write_bytes(b"this is not a database" * 300)
    v = n.value("w")
    assert v["code"] == "E_DB_CORRUPT" and "corrupt" in v["message"]
    path.unlink()
    assert n.value("w") == {"ok": 1}  # the same host goes on (and makes a new database)


def test_databases_are_per_tenant(tmp_path: Path) -> None:
    w = task(
        SCHEMA + "if (p.name) await env.DB.prepare('INSERT INTO t (name) VALUES (?)').bind(p.name).run();\n"
        "return (await env.DB.prepare('SELECT name FROM t').all()).results.map((r) => r.name);"
    )
    n = Node(tmp_path, {"wa": (w, 'tenant = "a"\n' + DB), "wb": (w, 'tenant = "b"\n' + DB)})
    assert n.value("wa", {"name": "alice"}) == ["alice"]
    assert n.value("wb") == []
    assert len(list((tmp_path / "data" / "d1").glob("*/app.sqlite3"))) == 2


def test_d1_caps(tmp_path: Path) -> None:
    toml = DB + "[bindings.caps.d1]\ncalls = 2\n"
    v = node(tmp_path, catch('Promise.all([1, 2, 3].map(() => env.DB.prepare("SELECT 1").all()))'), toml).value("w")
    assert v["code"] == "E_BINDING_LIMIT"


# ---- queue producers -----------------------------------------------------------------
Q = 'tenant = "acme"\n[[queues.producers]]\nbinding = "JOBS"\nqueue = "mailer"\n'
ACME = 'tenant = "acme"\n'


def test_queue_send_puts_tasks_on_the_pg_table(tmp_path: Path, db: Any) -> None:
    js = task(
        'await env.JOBS.send({ to: "a@example.com" });'
        'await env.JOBS.send("later", { delaySeconds: 600 });'
        "await env.JOBS.sendBatch([{ body: 1 }, { body: [2] }]); return 1"
    )
    consumer = task("return p")
    n = Node(tmp_path, {"w": (js, Q), "mailer": (consumer, ACME)}, pg_url=db.url, pg_table=db.table)
    assert n.value("w") == 1
    rows = db.fetch(
        "SELECT script, payload::text AS p, queue, run_after > now() + interval '5 minutes' AS later FROM {t} ORDER BY created_at, p"
    )
    got = sorted((r["script"], r["p"], r["queue"], r["later"]) for r in rows)
    assert got == sorted(
        [
            ("mailer", '{"to": "a@example.com"}', "mailer", False),
            ("mailer", '"later"', "mailer", True),
            ("mailer", "1", "mailer", False),
            ("mailer", "[2]", "mailer", False),
        ]
    )


def test_queue_consumer_of_another_tenant_is_refused(tmp_path: Path, db: Any) -> None:
    n = Node(
        tmp_path,
        {
            "w": (catch("env.JOBS.send(1)"), 'tenant = "a"\n' + Q.replace(ACME, "")),
            "mailer": (task("return p"), 'tenant = "b"\n'),
        },
        pg_url=db.url,
        pg_table=db.table,
    )
    v = n.value("w")
    assert v["code"] == "E_BINDING_DENIED" and "another tenant" in v["message"]
    assert db.val("SELECT count(*) FROM {t}") == 0


@pytest.mark.parametrize(
    ("expr", "code"),
    [
        ('env.JOBS.send("x".repeat(130000))', "E_QUEUE_TOO_LARGE"),
        ("env.JOBS.send(1, { delaySeconds: 100000 })", "E_BINDING_ARGUMENT"),
        ("env.JOBS.send(undefined)", None),
    ],
)
def test_queue_bad_input(tmp_path: Path, db: Any, expr: str, code: str | None) -> None:
    n = Node(tmp_path, {"w": (catch(expr), Q), "mailer": (task("return p"), ACME)}, pg_url=db.url, pg_table=db.table)
    v = n.value("w")
    assert "ok" not in v and v.get("code") == code


def test_queue_without_a_task_table_is_unavailable(tmp_path: Path) -> None:
    n = Node(tmp_path, {"w": (catch("env.JOBS.send(1)"), Q), "mailer": (task("return p"), ACME)})
    v = n.value("w")
    assert v["code"] == "E_BINDING_UNAVAILABLE" and "database_url" in v["message"]


def test_the_hosts_own_statements_cannot_be_replayed_from_sql(tmp_path: Path) -> None:
    # a batch runs BEGIN/COMMIT on the connection; the same text from tenant SQL is still refused
    js = task(
        SCHEMA
        + """
  await env.DB.batch([env.DB.prepare("SELECT 1"), env.DB.prepare("SELECT 2")]);
  const out = [];
  for (const sql of ["BEGIN IMMEDIATE", "COMMIT", "BEGIN", "PRAGMA page_count"]) {
    try { await env.DB.prepare(sql).run(); out.push("ran"); } catch (e) { out.push(e.code); }
  }
  return out;
"""
    )
    assert node(tmp_path, js).value("w") == ["E_SQL_DENIED", "E_SQL_DENIED", "E_SQL_DENIED", "ran"]


def test_operator_caps_of_an_unknown_kind_are_refused() -> None:
    from pydantic import ValidationError

    from shardrun.bindings.config import BindingSettings

    with pytest.raises(ValidationError, match="unknown binding kinds"):
        BindingSettings.model_validate({"caps": {"blob": {"calls": 1, "concurrent": 1}}})


@pytest.mark.parametrize(
    ("expr", "code", "words"),
    [
        ('env.DB.prepare("SELECT zeroblob(900000000)").all()', "E_SQL", "too big"),
        ('env.DB.prepare("SELECT 1").bind(...Array(101).fill(1)).all()', "E_BINDING_ARGUMENT", "101 bound values"),
        (
            'env.DB.prepare("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 200000) '
            "SELECT x, printf('%0100d', x) FROM c\").all()",
            "E_SQL",
            "max_output_bytes",
        ),
    ],
)
def test_values_and_results_are_bounded(tmp_path: Path, expr: str, code: str, words: str) -> None:
    v = node(tmp_path, catch(expr), sql_statement_ms=60_000).value("w")  # (not the time limit on a busy machine)
    assert v.get("code") == code and words in v["message"], v
