"""A shard's warm isolate cache: LRU, bounded by count, by engine heap bytes and by the
shard's resident memory (`RssCeilings`: the engine heap is not all an isolate holds).

Keyed by (tenant, worker, code version), so a tenant never gets another tenant's isolate
and an edited script never runs in an isolate of its old version. An isolate leaves the
cache when it is evicted, retired (it hit a limit or threw) or reached its reuse cap; one
with requests still in flight is only retired, and its shard drops it when it is idle.
Nothing here is shared or locked: each shard owns its cache.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from shardrun.settings import ServeSettings

Key = tuple[str, str, str]


class CachedIsolate(Protocol):
    retiring: bool
    discarded: bool
    requests: int

    def discard(self) -> None: ...

    @property
    def idle(self) -> bool: ...


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0
    evictions: int = 0
    retired: int = 0


@dataclass
class IsolateCache:
    """LRU of warm isolates with count, byte and reuse limits."""

    max_isolates: int = 1000
    max_bytes: int = 512 << 20
    reuse_cap: int = 10_000
    stats: CacheStats = field(default_factory=CacheStats)

    def __post_init__(self) -> None:
        self._entries: OrderedDict[Key, CachedIsolate] = OrderedDict()
        self._sizes: dict[Key, int] = {}
        self._versions: dict[tuple[str, str], set[str]] = {}  # (tenant, worker) -> cached code versions
        self.bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: Key) -> bool:
        return key in self._entries

    def peek(self, key: Key) -> CachedIsolate | None:
        """The cached isolate for key, without counting or reordering."""
        return self._entries.get(key)

    def get(self, key: Key) -> CachedIsolate | None:
        """A usable warm isolate for key (a hit), or None (a miss)."""
        iso = self._entries.get(key)
        if iso is None:
            self.stats.misses += 1
            return None
        if iso.retiring or iso.discarded or iso.requests >= self.reuse_cap:
            self._remove(key, retire=True)
            self.stats.retired += 1
            self.stats.misses += 1
            return None
        self._entries.move_to_end(key)
        self.stats.hits += 1
        return iso

    def put(self, key: Key, iso: CachedIsolate, size: int) -> list[CachedIsolate]:
        """Cache an isolate; returns the isolates evicted to make room."""
        if key in self._entries:
            self._remove(key, retire=True)
        self._entries[key] = iso
        self._sizes[key] = size
        self._versions.setdefault((key[0], key[1]), set()).add(key[2])
        self.bytes += size
        return self._shrink()

    def resize(self, key: Key, size: int) -> list[CachedIsolate]:
        """Record a new heap size for a cached isolate."""
        if key not in self._entries:
            return []
        self.bytes += size - self._sizes[key]
        self._sizes[key] = size
        return self._shrink()

    def drop(self, key: Key) -> None:
        """Forget an isolate (it is being discarded)."""
        if key in self._entries:
            self._remove(key, retire=False)

    def drop_other_versions(self, tenant: str, worker: str, version: str) -> list[CachedIsolate]:
        """Evict a tenant's isolates of a worker's other code versions (it was edited), without a scan."""
        versions = self._versions.get((tenant, worker))
        if not versions or versions == {version}:
            return []
        return [self._remove((tenant, worker, v), retire=True) for v in list(versions) if v != version]

    def evict_cold(self, fraction: float = 0.25) -> list[CachedIsolate]:
        """Evict the least recently used part of the cache (at least one entry): memory is short."""
        n = max(1, int(len(self._entries) * fraction)) if self._entries else 0
        evicted = [self._remove(key, retire=True) for key in list(self._entries)[:n]]
        self.stats.evictions += len(evicted)
        return evicted

    def keys(self) -> list[Key]:
        return list(self._entries)

    def _shrink(self) -> list[CachedIsolate]:
        evicted = []
        while self._entries and (len(self._entries) > self.max_isolates or self.bytes > self.max_bytes):
            key = next(iter(self._entries))
            evicted.append(self._remove(key, retire=True))
            self.stats.evictions += 1
        return evicted

    def _remove(self, key: Key, *, retire: bool) -> CachedIsolate:
        iso = self._entries.pop(key)
        self.bytes -= self._sizes.pop(key)
        versions = self._versions.get((key[0], key[1]))
        if versions is not None:
            versions.discard(key[2])
            if not versions:
                del self._versions[(key[0], key[1])]
        if retire:
            iso.retiring = True
            if iso.idle:
                iso.discard()
        return iso


@dataclass(frozen=True)
class RssCeilings:
    """A shard's resident-memory bounds in bytes (0: none). Over `soft` it evicts cold isolates;
    over `hard` it hands its slot to a replacement and exits once its requests are done."""

    soft: int
    hard: int

    @classmethod
    def of(cls, serve: ServeSettings) -> RssCeilings:
        """The settings' ceilings, defaults filled in (see ServeSettings.shard_rss_*_mb)."""
        address = address_limit_mb(serve)
        if serve.shard_rss_hard_mb is not None:
            hard = serve.shard_rss_hard_mb << 20
        elif address:
            hard = min((address << 20) * 3 // 4, machine_memory() * 4 // 5 // max(1, serve.shards))
        else:
            hard = machine_memory() * 4 // 5 // max(1, serve.shards)
        soft = serve.shard_rss_soft_mb << 20 if serve.shard_rss_soft_mb is not None else hard * 3 // 4
        return cls(soft, hard)

    def cache_limits(self, serve: ServeSettings) -> tuple[int, int]:
        """(warm isolates, engine heap bytes) a shard's cache may hold: the settings', or what the
        soft ceiling (else the hard one, else the machine) leaves room for."""
        room = self.soft or self.hard or machine_memory() * 4 // 5 // max(1, serve.shards)
        count = serve.cache_max_isolates or max(1000, room // ISOLATE_RSS)
        heap = serve.cache_max_mb << 20 if serve.cache_max_mb else room * 7 // 10
        return count, heap


ISOLATE_RSS = 400 << 10  # a warm fetch worker's resident memory, measured (bench.density_bench)


def address_limit_mb(serve: ServeSettings) -> int:
    """A shard's RLIMIT_AS in MB (0: none): the setting, else the machine's memory shared by the shards."""
    if serve.shard_max_address_mb is not None:
        return serve.shard_max_address_mb
    return max(4096, machine_memory() // max(1, serve.shards) >> 20)


def machine_memory() -> int:
    """The machine's physical memory in bytes."""
    return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
