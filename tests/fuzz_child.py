"""Run JS programs (a JSON list on stdin) each in a fresh isolate under tight limits; print how many ran.

A child process of tests/test_fuzz_js.py, so that a crash of the engine is seen as this
process dying instead of taking the test run down with it.
"""

from __future__ import annotations

import sys

import orjson

from shardrun.cli.oneshot import run_once
from shardrun.engine.limits import Limits
from shardrun.runtime.script import Script

LIMITS = Limits(cpu_ms=50, wall_ms=500, memory_mb=16, stack_kb=256, startup_ms=100)

programs = orjson.loads(sys.stdin.buffer.read())
codes: dict[str, int] = {}
for i, src in enumerate(programs):
    sys.stderr.write(f"program {i}\n")
    r = run_once(Script.from_source(src, f"p{i}.js"), "task", {}, LIMITS)
    key = "ok" if r.ok else r.error.code if r.error else "?"
    codes[key] = codes.get(key, 0) + 1
sys.stdout.write(orjson.dumps({"ran": len(programs), "codes": codes}).decode())
