"""Which shard serves a tenant: a stable hash of the tenant's user_id, then jump consistent hash.

Stable across processes and restarts (blake2b, never Python's salted hash()); when the
shard count changes, jump hash moves only the keys it must (1/N of them).
"""

from __future__ import annotations

import hashlib


def key_of(user_id: str) -> int:
    """64-bit stable hash of a tenant id."""
    return int.from_bytes(hashlib.blake2b(user_id.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little")


def jump_hash(key: int, buckets: int) -> int:
    """Lamping & Veach's jump consistent hash: bucket in [0, buckets)."""
    if buckets <= 0:
        raise ValueError("buckets must be positive")
    b, j = -1, 0
    key &= 0xFFFFFFFFFFFFFFFF
    while j < buckets:
        b = j
        key = (key * 2862933555777941757 + 1) & 0xFFFFFFFFFFFFFFFF
        j = int((b + 1) * (float(1 << 31) / float((key >> 33) + 1)))
    return b


def shard_for(user_id: str, shards: int) -> int:
    """The shard that owns a tenant."""
    return jump_hash(key_of(user_id), shards)
