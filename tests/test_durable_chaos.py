"""The durable-tasks fault run, small: numbered tasks through PostgreSQL and JetStream while shards
are killed and connections cut (the long run: `python -m bench.durable_chaos`)."""

from __future__ import annotations

import asyncio

import pytest

from bench.durable_chaos import jetstream, postgres


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_postgres_tasks_under_faults() -> None:
    r = asyncio.run(postgres(600, 4, 0.15))
    assert r["missing_or_wrong"] == 0 and r["duplicates"] == 0 and r["dead_lettered"] == 4, r
    assert r["kills"] + r["cuts"] >= 1, r


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_jetstream_tasks_under_faults() -> None:
    r = asyncio.run(jetstream(400, 0, 0.25))
    assert r["missing_or_wrong"] == 0 and r["duplicates"] == 0 and r["left_in_stream"] == 0, r
    assert r["kills"] + r["cuts"] >= 1, r
