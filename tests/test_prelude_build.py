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
    "fetch_api": ["src/fetch_api.js"],
    "encoding": ["src/encoding.js"],
    "events": ["src/events.js"],
    "crypto": ["src/crypto.js"],
    "subtle": ["src/subtle.js"],
    "url": ["vendor/url.js", "package-lock.json"],
    "structured_clone": ["vendor/structured_clone.js", "package-lock.json"],
    "streams": ["vendor/streams.js", "package-lock.json"],
    "forms": ["src/forms.js"],
    "navigator": ["src/navigator.js"],
    "bindings": ["src/bindings.js"],
    "intl": ["src/intl.js"],
    "stream_out": ["src/stream_out.js"],
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
    # 12,500: core carries the eight thin toLocale*/localeCompare wrappers that load the intl chunk
    assert len(prelude.chunk_source("core")) < 12_500, "core is evaluated in every fresh isolate: keep it small"
