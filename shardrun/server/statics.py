"""Static assets at the front door: a worker's files answered in the router, before its fetch handler.

Why here and not in the shard: a file needs no JavaScript, so the router answers it from the
request it already parsed, with no hop to a shard, no base64 body on the wire and no place in
the tenant's queue (a busy or restarting shard does not slow its files). The cost is a file
read in the router's loop, bounded by [assets] max_file_bytes and usually from the page cache.

The order, for a worker with `[assets]` (and not `run_worker_first`):
    GET/HEAD whose path is a file (or an html_handling redirect)   -> the file, here
    anything else                                                  -> the worker's fetch
    ... and when the worker has no fetch handler (E_NO_HANDLER)    -> 404 / not_found_handling
The answer "this script version has no fetch handler" is remembered, so the next such request
does not go to a shard at all.
"""

from __future__ import annotations

import time

from shardrun.assets import AssetLimits, Assets, StaticFiles
from shardrun.errors import ShardrunError
from shardrun.runtime.calls import HttpResponse
from shardrun.workers import Registry

MAX_REMEMBERED = 10_000  # script versions known to have no fetch handler
RECHECK_S = 1.0  # a worker's [assets] is looked up again (its files stat'ed) at most this often


class AssetRoutes:
    """The front door's view of workers' assets."""

    def __init__(self, registry: Registry, limits: AssetLimits) -> None:
        self.registry = registry
        self.files = StaticFiles(limits)
        self.no_fetch: set[str] = set()
        self._seen: dict[str, tuple[float, tuple[Assets, str] | None]] = {}  # worker -> (until, assets_of)

    def assets_of(self, worker: str) -> tuple[Assets, str] | None:
        """The worker's assets and script version, if it has assets served before its fetch.

        Remembered for RECHECK_S: the routing table reads the worker's files for every request
        already, and a worker without assets should cost its requests nothing more here."""
        now = time.monotonic()
        hit = self._seen.get(worker)
        if hit is not None and hit[0] > now:
            return hit[1]
        try:
            spec = self.registry.get(worker)
        except ShardrunError:
            return None  # the routing table reports what is wrong with the worker
        a = spec.assets
        found = None if a is None or a.config.run_worker_first else (a, spec.version)
        if len(self._seen) >= MAX_REMEMBERED:
            self._seen.clear()
        self._seen[worker] = (now + RECHECK_S, found)
        return found

    def answer(
        self, worker: str, method: str, path: str, query: str, headers: list[tuple[str, str]], mount: str
    ) -> tuple[bool, HttpResponse | None]:
        """(whether the worker has assets before its fetch, the response if they answer the request:
        a file, a redirect, or a 404 with no fetch handler to go to)."""
        found = self.assets_of(worker)
        if found is None:
            return False, None
        assets, version = found
        res = self.files.match(assets, method, path, query, headers, mount)
        if res is None and version in self.no_fetch:
            return True, self.files.not_found(assets, method, path, headers)
        return True, res

    def no_handler(self, worker: str, method: str, path: str, headers: list[tuple[str, str]]) -> HttpResponse | None:
        """The worker answered E_NO_HANDLER for fetch: its assets' 404 instead (and remember it)."""
        found = self.assets_of(worker)
        if found is None:
            return None
        assets, version = found
        if len(self.no_fetch) >= MAX_REMEMBERED:
            self.no_fetch.clear()
        self.no_fetch.add(version)
        return self.files.not_found(assets, method, path, headers)
