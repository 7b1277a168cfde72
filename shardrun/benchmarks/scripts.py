"""The seed's benchmark scripts, as task handlers, and the seed's published figures."""

from __future__ import annotations

from shardrun.runtime.script import Script

# SIMPLE: sums i for i in 0..1000. CPU_HEAVY: sums sqrt(i) * sin(i) for i in 0..10000.
SIMPLE = Script.from_source(
    "export default { task() { let s = 0; for (let i = 0; i < 1000; i++) s += i; return s } }", "simple.js"
)
CPU_HEAVY = Script.from_source(
    "export default { task() { let s = 0; for (let i = 0; i < 10000; i++) s += Math.sqrt(i) * Math.sin(i); return s } }",
    "cpu_heavy.js",
)

# Seed figures (req/s) per row and architecture, from seed 001 / bench-definitions.md.
SEED: dict[str, dict[str, float | None]] = {
    "cpu_bound": {"worker": 400, "shared": 578, "pinned": 556},
    "standard_5ms": {"worker": 118, "shared": 126, "pinned": 126},
    "warm_cache": {"worker": None, "shared": 1551, "pinned": 2077},
    "mt_4x20": {"worker": 1474, "shared": 4851, "pinned": 5766},
    "mt_cpu_4x25": {"worker": None, "shared": None, "pinned": None},
    "mt_contention_8x50": {"worker": None, "shared": None, "pinned": None},
    "mt_warm_4x50": {"worker": None, "shared": None, "pinned": None},
    "synthetic_8t4i": {"worker": 9945, "shared": 5423, "pinned": 10450},
    "synthetic_8t1i": {"worker": 10083, "shared": 1094, "pinned": 19511},
}
