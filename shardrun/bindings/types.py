"""The binding types: one entry each. A type names its worker.toml section (wrangler's), the kind
that labels its caps and metrics, the model of one entry, its default per-request caps and the
module that runs its calls (a `run(ctx, method, args)` that returns the value, or a coroutine for
a store that answers later). The JS side has the matching entry in js/src/bindings.js.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

from shardrun.bindings.assets import AssetsEntry
from shardrun.bindings.config import Cap
from shardrun.bindings.entries import D1Database, KVNamespace, QueueProducer


@dataclass(frozen=True)
class Kind:
    kind: str
    entry: type[BaseModel]
    default_cap: Cap
    module: str


TYPES: dict[str, Kind] = {
    "kv_namespaces": Kind("kv", KVNamespace, Cap(calls=1000, concurrent=10), "shardrun.bindings.kv"),
    "d1_databases": Kind("d1", D1Database, Cap(calls=100, concurrent=5), "shardrun.bindings.d1"),
    "queues.producers": Kind("queue", QueueProducer, Cap(calls=100, concurrent=5), "shardrun.bindings.queues"),
}
KINDS: dict[str, Kind] = {k.kind: k for k in TYPES.values()}
# env.ASSETS: declared by [assets] binding = "..." (a table of its own, not a section of entries),
# added to a worker's bindings by the registry (shardrun/bindings/assets.py; caps like storage's).
KINDS["assets"] = Kind("assets", AssetsEntry, Cap(calls=100, concurrent=3), "shardrun.bindings.assets")
