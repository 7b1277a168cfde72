"""The fault-storm harness: a small storm must pass its oracle, and the oracle must catch what it claims to."""

from __future__ import annotations

import orjson
import pytest

from shardrun.benchmarks.chaos import FAULTS, Report, _check_logs, _plan, run_chaos


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_a_small_storm_passes_the_oracle() -> None:
    r = run_chaos(requests=1500, tenants=100, faults=36, kills=3, concurrency=32, max_seconds=120)
    assert r.violations == []
    answered = sum(v for k, v in r.outcomes.items() if k != "console lines checked")
    assert answered == 1500 - 3  # every request answered (the 3 kills are not requests)
    assert r.kills >= 1 and len(r.respawn_s) == r.kills  # (a kill is skipped when its victim is already gone)
    assert r.outcomes["ok"] > 1000
    assert all(any(k.startswith(f"fault {kind} -> ") for k in r.outcomes) for kind in FAULTS)  # each kind was judged
    assert r.outcomes["console lines checked"] > 1000 and r.rss_mb["shard"] > 0 and r.rss_mb["router"] > 0


def test_the_log_oracle_catches_a_leak() -> None:
    owner = {"sk" + "a" * 24: "t0001", "sk" + "b" * 24: "t0002"}
    line = orjson.dumps({"event": "console", "tenant": "t0001", "text": "serving sk" + "b" * 24}).decode()
    own = orjson.dumps({"event": "console", "tenant": "t0002", "text": "serving sk" + "b" * 24}).decode()
    r = Report()
    _check_logs(own + "\n" + line, owner, r)
    assert r.violations == ["console line of t0001 carried t0002's secret"]


def test_the_plan_has_every_fault_and_kill() -> None:
    import random

    plan = _plan(1000, 10, 60, 4, random.Random(3))
    assert len(plan) == 1000 and sum(1 for w, _ in plan if w == "kill") == 4
    assert {a for w, a in plan if w == "fault"} == set(FAULTS)
