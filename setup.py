"""Build shardrun's engine extension, shardrun.engine._quickjs (native/), with the vendored quickjs-ng.

Everything else about the package is in pyproject.toml. Build knobs (environment):
  SHARDRUN_POLL_TICKS   interpreter ticks between interrupt polls (default 100; the engine's own is 10000)
  SHARDRUN_ASAN=1       AddressSanitizer build with the engine's assertions on (scripts/asan-test)
"""

from __future__ import annotations

import hashlib
import os
import struct
from pathlib import Path

from setuptools import Extension, setup

HERE = Path(__file__).parent
ENGINE = HERE / "native" / "quickjs"
ENGINE_SOURCES = ["quickjs.c", "libregexp.c", "libunicode.c", "dtoa.c"]


def engine_build() -> str:
    """sha256 of the vendored engine sources and the pointer size: bytecode is valid only within one build."""
    h = hashlib.sha256()
    for path in sorted(ENGINE.glob("*.[ch]")):
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    h.update(f"pointer={struct.calcsize('P')}".encode())
    return h.hexdigest()


poll_ticks = int(os.environ.get("SHARDRUN_POLL_TICKS", "100"))
asan = os.environ.get("SHARDRUN_ASAN") == "1"
compile_args = ["-O1", "-g", "-fsanitize=address", "-fno-omit-frame-pointer", "-UNDEBUG"] if asan else ["-O2"]
compile_args += ["-std=gnu11", "-Wno-sign-compare", "-Wno-unused-function", "-Wno-unused-variable"]
link_args = ["-fsanitize=address"] if asan else []

setup(
    ext_modules=[
        Extension(
            "shardrun.engine._quickjs",
            sources=["native/_quickjs.c"] + [f"native/quickjs/{name}" for name in ENGINE_SOURCES],
            include_dirs=["native", "native/quickjs"],
            depends=sorted(str(p.relative_to(HERE)) for p in ENGINE.glob("*.h")),
            define_macros=[
                ("JS_INTERRUPT_COUNTER_INIT", str(poll_ticks)),
                ("SHARDRUN_ENGINE_BUILD", f'"{engine_build()}"'),
            ],
            extra_compile_args=compile_args,
            extra_link_args=link_args + ["-lm"],
        )
    ],
)
