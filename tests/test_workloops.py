"""Workloop parsing and slot accounting (the seed's --workloops syntax)."""

from __future__ import annotations

import pytest

from shardrun.errors import UsageError
from shardrun.sources.workloops import Group, capacity, from_flags, named_queues, parse


def test_the_documented_examples() -> None:
    g = parse("fast_lane:1 manual>*:4")
    assert [(x.queues, x.wildcard, x.slots) for x in g] == [(("fast_lane",), False, 1), (("manual",), True, 4)]
    assert g[0].strict and not g[1].strict
    assert capacity(g) == 5
    assert parse("*:5") == [Group((), True, 5)]
    assert [x.name for x in parse("fast_lane>manual>*:1 *:4")] == ["fast_lane>manual>*:1", "*:4"]
    assert named_queues(parse("fast_lane:2 manual>*:3")) == ["fast_lane", "manual", "default"]


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ("", "empty"),
        ("fast_lane", "needs '<queues>:<slots>'"),
        (":3", "needs '<queues>:<slots>'"),
        ("a:x", "whole number"),
        ("a:0", "at least 1"),
        ("*>a:2", "may only come last"),
        ("a>>b:1", "bad queue name"),
        ("a b:1", "needs"),
        ("bad.name:1", "bad queue name"),
        ("a>a:1", "twice"),
    ],
)
def test_bad_specs_name_the_problem(spec: str, words: str) -> None:
    with pytest.raises(UsageError) as e:
        parse(spec)
    assert e.value.code == "E_USAGE" and words in e.value.message


def test_capacity_and_workloops_are_exclusive() -> None:
    assert from_flags(None, None) == [Group((), True, 5)]
    assert from_flags(None, 3) == parse("*:3")
    with pytest.raises(UsageError, match="mutually exclusive"):
        from_flags("*:2", 2)
    with pytest.raises(UsageError, match="at least 1"):
        from_flags(None, 0)


def test_strict_groups_accept_only_their_queues_and_rank_by_preference() -> None:
    strict, pref = parse("fast_lane:1 manual>other>*:4")
    assert strict.accepts("fast_lane") and not strict.accepts("manual") and not strict.accepts("default")
    assert pref.accepts("anything")
    assert [pref.rank(q) for q in ("manual", "other", "zzz")] == [0, 1, 2]


def test_claims_take_slots_before_they_complete() -> None:
    g = parse("q:3")[0]
    assert g.reserve(5) == 3 and g.free == 0  # a claim of 5 gets only the 3 free slots
    assert g.reserve(1) == 0
    g.release(2)  # the claim found one task: two come back at once
    assert g.free == 2 and g.busy == 1
    g.release()  # the task finished
    assert g.free == 3
    with pytest.raises(ValueError, match="only 0 are taken"):
        g.release()
