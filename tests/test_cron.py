"""Cron triggers in-process: [triggers] validation, the firing policy, the scheduler and its claims."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest

from shardrun.errors import ShardrunError
from shardrun.settings import CronSettings
from shardrun.sources.cron import Scheduler
from shardrun.sources.cronclaims import LocalClaims, PgClaims
from shardrun.sources.schedule import Firing, latest_due, next_firings, plan
from shardrun.workers import Registry

from .queues import Db

T0 = dt.datetime(2026, 12, 2, 10, 0, 0, tzinfo=dt.UTC).timestamp()  # a whole hour


def workers(tmp_path: Path, crons: dict[str, str]) -> Registry:
    """A workers directory: name -> the [triggers] body of its worker.toml."""
    for name, triggers in crons.items():
        (tmp_path / name).mkdir(parents=True)
        (tmp_path / name / "index.js").write_text("export default { scheduled() {} }")
        (tmp_path / name / "worker.toml").write_text("[triggers]\n" + triggers + "\n")
    return Registry(tmp_path)


# ---- [triggers] in worker.toml ---------------------------------------------------------------
def test_triggers_are_read(tmp_path):
    spec = workers(tmp_path, {"w": 'crons = ["*/5 * * * *", "0 3 * * mon", "* * * * * */10", "@hourly"]'}).get("w")
    assert spec.crons == ("*/5 * * * *", "0 3 * * mon", "* * * * * */10", "@hourly")


@pytest.mark.parametrize(
    ("triggers", "words"),
    [
        ('crons = ["61 * * * *"]', "triggers.crons.0"),
        ('crons = ["* * * * *", "nope"]', "triggers.crons.1"),
        ('crons = [""]', "non-empty"),
        ('crons = ["* * *"]', "has 3 fields"),
        ('crons = ["* * * * * * *"]', "has 7 fields"),
        ('crons = ["0 0 31 2 *"]', "is not a cron expression"),  # parses, never fires
        ('crons = ["@sometimes"]', "is not a cron expression"),
        ('crons = ["' + "1," * 80 + '1 * * * *"]', "more than 128 characters"),
        ('crons = ["* * * * *", "* * * * *"]', "the same cron expression twice"),
        ("crons = [" + ", ".join(f'"{i} * * * *"' for i in range(11)) + "]", "at most 10"),
        ('crons = "* * * * *"', "triggers.crons"),
        ("crons = [5]", "triggers.crons.0"),
        ('cron = ["* * * * *"]', "triggers.cron"),
    ],
)
def test_a_bad_cron_is_E_WORKER_CONFIG_naming_the_field(tmp_path, triggers, words):
    with pytest.raises(ShardrunError) as e:
        workers(tmp_path, {"w": triggers}).get("w")
    assert e.value.code == "E_WORKER_CONFIG"
    assert "w/worker.toml" in e.value.message and words in e.value.message


# ---- the policy ---------------------------------------------------------------------------------
def test_latest_due_and_next_firings():
    assert latest_due("*/5 * * * *", T0 + 7 * 60 + 3) == T0 + 5 * 60
    assert latest_due("*/5 * * * *", T0) == T0  # a firing time is due at that second
    assert latest_due("* * * * * */10", T0 + 25.5) == T0 + 20
    assert next_firings("*/5 * * * *", T0, 3) == [T0 + 300, T0 + 600, T0 + 900]


def test_after_downtime_only_the_latest_missed_firing_runs():
    # the last firing ran at T0; the node comes back 47 minutes later
    p = plan("w", "*/5 * * * *", T0 + 47 * 60, last=T0, max_late_s=300)
    assert p.firing == Firing("w", "*/5 * * * *", T0 + 45 * 60)
    assert p.skipped == 8  # 05, 10, ..., 40
    # ... and not at all when that one is too late
    p = plan("w", "0 * * * *", T0 + 47 * 60, last=T0 - 3600, max_late_s=300)
    assert p.firing is None and p.skipped == 1
    # nothing new: nothing runs
    assert plan("w", "*/5 * * * *", T0 + 60, last=T0, max_late_s=300).firing is None


def test_the_event_is_the_scheduled_controller_shape():
    assert Firing("w", "*/5 * * * *", T0).event() == {
        "cron": "*/5 * * * *",
        "scheduledTime": int(T0 * 1000),
        "type": "scheduled",
    }


# ---- the scheduler, on a clock the test moves ---------------------------------------------------------
class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


class Fired:
    """The scheduler's `fire`: records the firings and answers like the router would."""

    def __init__(self, fail: set[str] | None = None) -> None:
        self.firings: list[tuple[str, str, float, str]] = []
        self.fail = fail or set()

    async def __call__(self, f: Firing, tenant: str) -> tuple[bool, str, str]:
        self.firings.append((f.worker, f.cron, f.scheduled, tenant))
        if f.worker in self.fail:
            return False, "E_SCRIPT", "boom"
        return True, "", ""


async def settle(s: Scheduler) -> None:
    await s.tick()
    await asyncio.sleep(0)
    await s.drain(5)


def test_the_scheduler_fires_on_time_and_skips_what_was_missed(tmp_path):
    reg = workers(tmp_path, {"a": 'crons = ["*/5 * * * *"]', "b": 'crons = ["* * * * *"]'})
    clock, fired = Clock(T0 + 30), Fired()
    s = Scheduler(reg, CronSettings(max_late_s=300), LocalClaims(), fired, "n1", clock)

    async def go() -> None:
        await settle(s)
        assert fired.firings == []  # first seen at T0+30: T0's firing is before that
        clock.t = T0 + 60
        await settle(s)
        assert fired.firings == [("b", "* * * * *", T0 + 60, "b")]
        clock.t = T0 + 60.5
        await settle(s)
        assert len(fired.firings) == 1  # not twice
        clock.t = T0 + 20 * 60 + 1  # a long pause: one firing each, the latest
        await settle(s)
        assert sorted(fired.firings[1:]) == [("a", "*/5 * * * *", T0 + 1200, "a"), ("b", "* * * * *", T0 + 1200, "b")]
        assert s.counts["skipped"] == 3 + 18

    asyncio.run(go())


def test_a_worker_with_a_bad_cron_is_skipped_and_the_others_fire(tmp_path):
    reg = workers(tmp_path, {"good": 'crons = ["* * * * *"]', "bad": 'crons = ["99 * * * *"]'})
    clock, fired = Clock(T0 + 1), Fired(fail={"good"})
    s = Scheduler(reg, CronSettings(), LocalClaims(), fired, "n1", clock)

    async def go() -> None:
        await settle(s)
        assert "bad" in s.broken and "triggers.crons.0" in s.broken["bad"]
        clock.t = T0 + 60
        await settle(s)
        assert [f[0] for f in fired.firings] == ["good"]
        assert s.counts["failed"] == 1  # not retried
        clock.t = T0 + 61
        await settle(s)
        assert len(fired.firings) == 1

    asyncio.run(go())


def test_a_removed_trigger_stops_firing(tmp_path):
    reg = workers(tmp_path, {"a": 'crons = ["* * * * *"]'})
    clock, fired = Clock(T0 + 1), Fired()
    s = Scheduler(reg, CronSettings(scan_s=1), LocalClaims(), fired, "n1", clock)

    async def go() -> None:
        await settle(s)
        (tmp_path / "a" / "worker.toml").write_text("[triggers]\ncrons = []\n")
        clock.t = T0 + 60
        await settle(s)
        assert fired.firings == [] and s.crons == {}

    asyncio.run(go())


# ---- claims in PostgreSQL: several nodes, each firing once ------------------------------------------
def test_two_nodes_on_postgres_run_each_firing_once(tmp_path, db: Db):
    table = db.table + "_cron"
    reg = workers(tmp_path, {"a": 'crons = ["* * * * *"]', "b": 'crons = ["*/2 * * * *"]'})
    clock = Clock(T0 + 1)
    fired1, fired2 = Fired(), Fired()

    async def go() -> None:
        c1, c2 = PgClaims(db.url, table, 7), PgClaims(db.url, table, 7)
        await asyncio.gather(c1.start(), c2.start())  # both make the table at once
        n1 = Scheduler(reg, CronSettings(), c1, fired1, "n1", clock)
        n2 = Scheduler(reg, CronSettings(), c2, fired2, "n2", clock)
        try:
            await asyncio.gather(settle(n1), settle(n2))
            for minute in range(1, 11):
                clock.t = T0 + 60 * minute
                await asyncio.gather(settle(n1), settle(n2))
        finally:
            await c1.close()
            await c2.close()

    try:
        asyncio.run(go())
        runs = fired1.firings + fired2.firings
        assert len(runs) == 10 + 5
        assert len(set(runs)) == len(runs)  # each (worker, cron, time) once over both nodes
        assert n_rows(db, table) == 15
        assert {r["status"] for r in db.fetch(f"SELECT status FROM {table}")} == {"completed"}
    finally:
        db.exec(f"DROP TABLE IF EXISTS {table}")


def test_a_node_back_after_downtime_runs_the_latest_missed_firing_once(tmp_path, db: Db):
    table = db.table + "_cron"
    reg = workers(tmp_path, {"a": 'crons = ["*/5 * * * *"]'})
    clock = Clock(T0 + 1)
    first, later = Fired(), Fired()

    async def node(fired: Fired, until: float) -> None:
        claims = PgClaims(db.url, table, 7)
        await claims.start()
        s = Scheduler(reg, CronSettings(max_late_s=300), claims, fired, "n", clock)
        try:
            await settle(s)
            clock.t = until
            await settle(s)
        finally:
            await claims.close()

    try:
        asyncio.run(node(first, T0 + 300))  # runs 10:05, then goes down
        clock.t = T0 + 42 * 60  # back at 10:42: 10:10 ... 10:40 were missed
        asyncio.run(node(later, T0 + 42 * 60 + 1))
        assert [f[2] for f in first.firings] == [T0 + 300]
        assert [f[2] for f in later.firings] == [T0 + 40 * 60]  # the latest missed one, once
        assert n_rows(db, table) == 2
    finally:
        db.exec(f"DROP TABLE IF EXISTS {table}")


def n_rows(db: Db, table: str) -> int:
    return int(db.val(f"SELECT count(*) FROM {table}"))


# ---- shardrun cron list ----------------------------------------------------------------------------------
def test_cron_list_shows_the_next_firings(tmp_path):
    import orjson

    from .conftest import run_cli

    workers(tmp_path, {"a": 'crons = ["*/5 * * * *", "0 3 * * mon"]'})
    r = run_cli("cron", "list", "--workers", str(tmp_path), "--json", "--count", "2")
    assert r.returncode == 0, r.stderr
    out = orjson.loads(r.stdout)
    assert [c["cron"] for c in out["crons"]] == ["*/5 * * * *", "0 3 * * mon"] and out["errors"] == []
    first = dt.datetime.strptime(out["crons"][0]["next"][0], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    assert first.minute % 5 == 0 and first.second == 0 and len(out["crons"][0]["next"]) == 2
    assert dt.datetime.strptime(out["crons"][1]["next"][0], "%Y-%m-%dT%H:%M:%SZ").weekday() == 0
    r = run_cli("cron", "list", "--workers", str(tmp_path))
    assert r.returncode == 0 and b"*/5 * * * *" in r.stdout and b"next firings" in r.stdout


def test_cron_list_names_a_bad_worker_and_exits_1(tmp_path):
    import orjson

    from .conftest import run_cli

    workers(tmp_path, {"good": 'crons = ["@daily"]', "bad": 'crons = ["* * 32 * *"]'})
    r = run_cli("cron", "list", "--workers", str(tmp_path))
    assert r.returncode == 1 and b"@daily" in r.stdout
    err = orjson.loads(r.stderr.splitlines()[-1])["error"]
    assert err["worker"] == "bad" and err["code"] == "E_WORKER_CONFIG" and "triggers.crons.0" in err["message"]
    r = run_cli("cron", "list", "--workers", str(tmp_path / "missing"))
    assert r.returncode == 2 and b"E_NOT_FOUND" in r.stderr


def test_a_firing_that_cannot_be_claimed_is_not_run(tmp_path, db: Db):
    """The claims database goes away: the node runs nothing rather than risk running a firing twice."""
    table = db.table + "_cron"
    reg = workers(tmp_path, {"a": 'crons = ["* * * * *"]'})
    clock, fired = Clock(T0 + 1), Fired()

    async def go() -> None:
        claims = PgClaims(db.url, table, 7)
        await claims.start()
        s = Scheduler(reg, CronSettings(), claims, fired, "n", clock)
        await settle(s)
        await claims.close()  # its connections are gone
        clock.t = T0 + 60
        await settle(s)
        assert fired.firings == [] and s.counts["claim_failed"] == 1

    try:
        asyncio.run(go())
    finally:
        db.exec(f"DROP TABLE IF EXISTS {table}")
