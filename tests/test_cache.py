"""The shard's isolate cache: LRU by count and bytes, reuse cap, retire-not-kill when busy."""

from __future__ import annotations

from shardrun.server.cache import IsolateCache


class FakeIsolate:
    def __init__(self, busy: bool = False) -> None:
        self.retiring = False
        self.discarded = False
        self.requests = 0
        self.busy = busy

    @property
    def idle(self) -> bool:
        return not self.busy

    def discard(self) -> None:
        self.discarded = True


def k(i: int) -> tuple[str, str, str]:
    return (f"t{i}", "w", "v1")


def test_hit_miss_and_lru_order():
    c = IsolateCache(max_isolates=2)
    a, b, d = FakeIsolate(), FakeIsolate(), FakeIsolate()
    c.put(k(1), a, 10)
    c.put(k(2), b, 10)
    assert c.get(k(1)) is a  # 1 is now most recent
    evicted = c.put(k(3), d, 10)  # evicts 2
    assert evicted == [b] and b.discarded and k(2) not in c
    assert c.get(k(2)) is None
    assert (c.stats.hits, c.stats.misses, c.stats.evictions) == (1, 1, 1)


def test_byte_limit():
    c = IsolateCache(max_isolates=100, max_bytes=250)
    isos = [FakeIsolate() for _ in range(3)]
    for i, iso in enumerate(isos):
        c.put(k(i), iso, 100)
    assert len(c) == 2 and c.bytes == 200 and isos[0].discarded
    c.resize(k(1), 200)
    assert len(c) == 1 and k(2) in c


def test_busy_isolates_are_retired_not_discarded():
    c = IsolateCache(max_isolates=1)
    busy = FakeIsolate(busy=True)
    c.put(k(1), busy, 1)
    c.put(k(2), FakeIsolate(), 1)
    assert busy.retiring and not busy.discarded


def test_retired_and_worn_out_isolates_are_misses():
    c = IsolateCache(reuse_cap=3)
    a = FakeIsolate()
    c.put(k(1), a, 1)
    a.requests = 3
    assert c.get(k(1)) is None and a.discarded
    b = FakeIsolate()
    c.put(k(2), b, 1)
    b.retiring = True
    assert c.get(k(2)) is None
    assert c.stats.retired == 2


def test_keys_separate_tenants_and_versions():
    c = IsolateCache()
    a = FakeIsolate()
    c.put(("t1", "w", "v1"), a, 1)
    assert c.get(("t2", "w", "v1")) is None
    assert c.get(("t1", "w", "v2")) is None
    assert c.drop_other_versions("t1", "w", "v2") == [a] and a.discarded


def test_dropping_a_workers_old_versions_touches_only_that_tenant_and_worker():
    c = IsolateCache(max_isolates=3)
    old, other_tenant, other_worker, new = FakeIsolate(), FakeIsolate(), FakeIsolate(), FakeIsolate()
    c.put(("t1", "w", "v1"), old, 1)
    c.put(("t2", "w", "v1"), other_tenant, 1)
    c.put(("t1", "x", "v1"), other_worker, 1)
    assert c.drop_other_versions("t1", "w", "v1") == []  # the current version stays
    c.put(("t1", "w", "v2"), new, 1)
    assert c.drop_other_versions("t1", "w", "v2") == []  # v1 was evicted by the count limit already
    assert old.discarded and not other_tenant.discarded and not other_worker.discarded
    assert ("t1", "w", "v2") in c and len(c) == 3
    c.put(("t1", "w", "v3"), FakeIsolate(), 1)  # evicts t2's (least recently used)
    assert c.drop_other_versions("t1", "w", "v3") == [new] and new.discarded
    assert other_tenant.discarded and c.keys() == [("t1", "x", "v1"), ("t1", "w", "v3")]
