"""The Postgres queue's statements against the real database: claims, fencing, retries, dead letters."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest

from shardrun.errors import UsageError
from shardrun.sources.pgqueue import Statements, schema, table_name

from .queues import Db


def claim(
    d: Db,
    queues: list[str] = [],  # noqa: B006  (never mutated)
    wildcard: bool = True,
    n: int = 10,
    lease: float = 30,
    node: str = "n1",
) -> list[Any]:
    return d.fetch(Statements(d.table).claim, queues, wildcard, n, lease, node)


def complete(d: Db, rid: Any, attempt: int, result: str) -> int:
    return len(d.fetch(Statements(d.table).complete_many, [rid], [attempt], [result]))


def fail(d: Db, row: Any, code: str = "E_SCRIPT", permanent: bool = False, delay: float = 0.0) -> Any:
    return d.val(Statements(d.table).fail, row["id"], row["attempts"], code, "boom", permanent, delay, 60.0, 3)


def test_claim_takes_each_task_once_and_fences_by_attempt(db: Db) -> None:
    db.add([{"script": "w", "payload": '{"n": 1}'}])
    (row,) = claim(db)
    assert row["attempts"] == 1 and row["was"] == "pending" and row["payload"] == '{"n": 1}'
    assert claim(db) == []  # running, lease held: nobody else gets it
    db.exec("UPDATE {t} SET lease_until = now() - interval '1 second'")  # its worker went silent
    (again,) = claim(db, node="n2")
    assert again["attempts"] == 2 and again["was"] == "running"
    assert complete(db, row["id"], 1, '"late"') == 0  # the stale worker is rejected
    assert complete(db, row["id"], 2, '"ok"') == 1
    assert complete(db, row["id"], 2, '"again"') == 1  # the same attempt again (a retried write): a no-op
    assert db.val("SELECT result FROM {t}") == '"ok"'
    (done,) = db.fetch("SELECT status, result, claimed_by FROM {t}")
    assert (done["status"], done["result"], done["claimed_by"]) == ("completed", '"ok"', "n2")


def test_renew_keeps_only_leases_still_held(db: Db) -> None:
    db.add([{"script": "w"}, {"script": "w"}])
    a, b = claim(db)
    s = Statements(db.table)
    db.exec("UPDATE {t} SET attempts = attempts + 1 WHERE id = $1", b["id"])  # b was taken over
    kept = db.fetch(s.renew, [a["id"], b["id"]], [a["attempts"], b["attempts"]], 60.0)
    assert [r["id"] for r in kept] == [a["id"]]


def test_retry_backs_off_then_dead_letters_with_the_reason(db: Db) -> None:
    db.add([{"script": "w", "max_attempts": 2}])
    (row,) = claim(db)
    assert fail(db, row, delay=30) == "pending"
    assert claim(db) == []  # not before its run_after
    db.exec("UPDATE {t} SET run_after = now()")
    (row,) = claim(db)
    assert fail(db, row) == "dead"
    (dead,) = db.fetch("SELECT status, error, error_code, completed_at FROM {t}")
    assert dead["status"] == "dead" and dead["error_code"] == "E_SCRIPT" and dead["completed_at"] is not None
    assert dead["error"] == "dead-lettered after 2 attempts: boom"
    assert claim(db) == []


def test_permanent_failures_are_not_retried(db: Db) -> None:
    db.add([{"script": "w", "max_attempts": 5}])
    (row,) = claim(db)
    assert fail(db, row, code="E_NOT_FOUND", permanent=True) == "failed"
    assert db.val("SELECT attempts FROM {t}") == 1 and claim(db) == []


def test_a_stale_failure_changes_nothing(db: Db) -> None:
    db.add([{"script": "w"}])
    (row,) = claim(db)
    db.exec("UPDATE {t} SET lease_until = now() - interval '1 second'")
    claim(db)
    assert fail(db, row) is None
    assert db.val("SELECT status FROM {t}") == "running"


def test_queue_preference_and_strict_groups(db: Db) -> None:
    db.add([{"script": "w", "queue": q} for q in ("default", "manual", "fast_lane", "other")])
    strict = claim(db, ["fast_lane"], wildcard=False)
    assert [r["queue"] for r in strict] == ["fast_lane"]
    first = claim(db, ["manual"], wildcard=True, n=1)
    assert [r["queue"] for r in first] == ["manual"]  # preferred before the wildcard's oldest
    assert sorted(r["queue"] for r in claim(db)) == ["default", "other"]


def test_db_init_upgrades_a_task_executor_table() -> None:
    d = Db()
    d.exec("""CREATE TABLE {t} (id UUID PRIMARY KEY DEFAULT gen_random_uuid(), script TEXT NOT NULL, payload JSONB,
              status TEXT NOT NULL DEFAULT 'pending', result JSONB, error TEXT,
              created_at TIMESTAMPTZ NOT NULL DEFAULT now(), started_at TIMESTAMPTZ, completed_at TIMESTAMPTZ)""")
    try:
        d.exec("INSERT INTO {t} (script, payload) VALUES ('hello.js', '{\"name\": \"world\"}')")

        async def init(conn: asyncpg.Connection) -> None:
            for stmt in schema(d.table) + schema(d.table):  # twice: it is idempotent
                await conn.execute(stmt)

        d.run(init)
        (row,) = claim(d)
        assert (row["script"], row["queue"], row["attempts"], row["max_attempts"]) == ("hello.js", "default", 1, None)
    finally:
        d.exec("DROP TABLE {t} CASCADE")
        d.exec(f"DROP FUNCTION IF EXISTS {d.table}_notify() CASCADE")


def test_notify_on_insert(db: Db) -> None:
    async def listen(conn: asyncpg.Connection) -> str:
        got: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        await conn.add_listener(f"{db.table}_created", lambda *a: got.done() or got.set_result(a[3]))
        other = await asyncpg.connect(db.url)
        try:
            rid = await other.fetchval(f"INSERT INTO {db.table} (script) VALUES ('w') RETURNING id")
        finally:
            await other.close()
        assert await asyncio.wait_for(got, 5) == str(rid)
        return "ok"

    assert db.run(listen) == "ok"


@pytest.mark.parametrize("name", ["Bad", "1x", "x;drop", "a" * 64, ""])
def test_table_names_are_checked(name: str) -> None:
    with pytest.raises(UsageError):
        table_name(name)


def test_higher_priority_first_within_a_queue_preference(db: Db) -> None:
    db.exec("""INSERT INTO {t} (script, queue, priority) VALUES ('low', 'default', -1), ('mid', 'default', 0),
               ('high', 'default', 7), ('pref', 'manual', 0)""")
    order = [claim(db, ["manual"], True, n=1)[0]["script"] for _ in range(4)]
    assert order == ["pref", "high", "mid", "low"]
    assert claim(db) == []
