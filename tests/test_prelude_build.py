"""The committed prelude chunks are built from the committed sources (run scripts/build-js)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from shardrun.runtime import prelude

JS = Path(__file__).resolve().parent.parent / "js"
INPUTS = {
    "core": ["src/core.js"],
    "fetch_api": ["src/headers.js", "src/blob.js", "src/fetch_api.js"],
    "encoding": ["src/encoding.js"],
    "events": ["src/events.js"],
    "crypto": ["src/crypto.js"],
    "subtle": ["src/subtle.js"],
    "url": ["src/url.js"],
    "structured_clone": ["src/structured_clone.js"],
    "streams": ["vendor/streams.js", "package-lock.json"],
    "forms": ["src/forms.js"],
    "navigator": ["src/navigator.js"],
    "bindings": ["src/bindings.js"],
    "intl": ["src/intl.js"],
    "stream_out": ["src/stream_out.js"],
    "compression": ["src/compression.js"],
    "urlpattern": ["vendor/urlpattern.js", "package-lock.json"],
}


@pytest.mark.parametrize("name", sorted(INPUTS))
def test_chunk_is_up_to_date(name):
    h = hashlib.sha256()
    for p in INPUTS[name]:
        h.update((JS / p).read_bytes())
    m = re.search(r"inputs sha256 ([0-9a-f]{64})", prelude.chunk_header(name))
    assert m, "chunk has no header"
    assert m.group(1) == h.hexdigest(), f"shardrun/runtime/js/{name}.js is stale: run scripts/build-js"


def test_every_chunk_is_known_to_the_prelude():
    assert set(INPUTS) == {"core", *prelude.LAZY_CHUNKS}


def test_chunks_are_ascii_and_small():
    for name in INPUTS:
        src = prelude.chunk_source(name)
        assert src.isascii()
    # core: the loop, mailbox, timers, console, dispatch, the lazy-chunk loader, the lazy
    # error.stack, the toLocale*/localeCompare wrappers and the hooks of bindings and streamed bodies
    assert len(prelude.chunk_source("core")) < 14_000, "core is evaluated in every fresh isolate: keep it small"


CORE_GLOBALS = ("setTimeout", "setInterval", "clearTimeout", "clearInterval")


def test_every_builtin_keeps_its_global_name():
    """The build keeps names (URL.name is "URL", not a minified letter): code checks constructor.name."""
    from .conftest import eval_js

    names = [*CORE_GLOBALS, *(g for globs in prelude.LAZY_CHUNKS.values() for g in globs)]
    got = eval_js(
        "const out = {};"
        f"for (const g of {names!r}) {{ const v = globalThis[g]; if (typeof v === 'function') out[g] = v.name; }}"
        "for (const g of Object.getOwnPropertyNames(globalThis)) {"  # every chunk is loaded now
        "  const v = globalThis[g]; if (typeof v === 'function' && !(g in out)) out[g] = v.name; }"
        "return out"
    )
    assert len(got) > 60 and set(names) - {"crypto", "navigator", "self", "scheduler", "Intl"} <= set(
        got
    )  # objects, not classes
    assert {g: n for g, n in got.items() if g != n} == {}


def test_the_first_isolate_of_a_process_does_not_pay_for_compiling_the_chunks():
    """prelude.bytecode() compiles every chunk on the first prepare() of a process: outside the
    startup budget, so a worker with a small one still loads (it used to raise BudgetExceeded)."""
    import subprocess
    import sys

    code = (
        "from shardrun.cli.oneshot import run_once\n"
        "from shardrun.engine.limits import Limits\n"
        "from shardrun.runtime.script import Script\n"
        "r = run_once(Script.from_source('export default { task() { return 7 } }', 'a.js'), 'task', {}, Limits(startup_ms=5))\n"
        "print(r.ok, r.value)\n"
    )
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60, cwd=JS.parent, check=False)
    assert p.returncode == 0, p.stderr.decode()[-500:]
    assert p.stdout.decode().split() == ["True", "7"]
