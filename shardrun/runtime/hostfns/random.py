"""crypto.getRandomValues and crypto.randomUUID from the host's CSPRNG (os.urandom)."""

from __future__ import annotations

import os
from typing import Any

from shardrun.runtime.hostcall import HostCallError, HostFn, HostState

MAX_RANDOM_BYTES = 65536  # the Web Crypto spec's quota per getRandomValues call


def random_bytes(state: HostState, n: Any) -> bytes:
    """n random bytes, 0 <= n <= 65536."""
    if type(n) is not int or not 0 <= n <= MAX_RANDOM_BYTES:
        raise HostCallError(f"random.bytes: n must be an integer from 0 to {MAX_RANDOM_BYTES}")
    return os.urandom(n)


FUNCS: dict[str, HostFn] = {"random.bytes": random_bytes}
