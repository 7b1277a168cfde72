"""KV namespaces: env.KV.get/getWithMetadata/put/delete/list, Cloudflare's limits, two stores.

Limits (Cloudflare's): a key is 1-512 bytes of UTF-8 (not "." or ".."), metadata at most 1024
bytes of JSON, a value at most 25 MiB and never more than the worker's max_output_bytes;
`expiration` (seconds since the epoch) and `expirationTtl` at least 60 s ahead; list() returns
at most 1000 keys per page, in key order, with an opaque cursor.

Stores: SQLite (default: one file per node, `<data_dir>/kv.sqlite3`, WAL, shared by the node's
shards) or PostgreSQL ([bindings] kv_backend = "postgres": one table several nodes share). Rows are
keyed by (tenant, namespace, key): a namespace id names a different namespace in each tenant.
Expired entries are never returned and are deleted when read or listed.
"""

from __future__ import annotations

import base64
import binascii
import os
import sqlite3
import time
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from shardrun.bindings.errors import BindingError, argument

if TYPE_CHECKING:
    from shardrun.bindings.host import OpContext
    from shardrun.bindings.stores import Stores

MAX_KEY_BYTES = 512
MAX_VALUE_BYTES = 25 << 20
MAX_METADATA_BYTES = 1024
MIN_TTL_S = 60
MAX_LIST = 1000
TYPES = ("text", "json", "arrayBuffer", "stream")
Row = tuple[bytes, str | None, float | None]  # value, metadata JSON, expiration


def value_limit(max_output_bytes: int) -> int:
    return min(MAX_VALUE_BYTES, max_output_bytes)


def _key(v: Any, what: str = "key") -> str:
    if not isinstance(v, str):
        raise argument(f"KV: the {what} must be a string")
    n = len(v.encode("utf-8", "surrogatepass"))
    if n == 0 or v in (".", ".."):
        raise argument(f'KV: the {what} must not be empty, "." or ".."')
    if n > MAX_KEY_BYTES:
        raise BindingError("E_KV_TOO_LARGE", f"KV: the {what} is {n} bytes, over the limit of {MAX_KEY_BYTES}")
    return v


def _value(v: Any, limit: int) -> bytes:
    if isinstance(v, dict) and isinstance(v.get("t"), str):
        data = v["t"].encode("utf-8", "replace")
    elif isinstance(v, dict) and isinstance(v.get("b"), str):
        if len(v["b"]) > 4 * -(-limit // 3) + 4:
            raise BindingError("E_KV_TOO_LARGE", f"KV: the value is over the limit of {limit} bytes")
        try:
            data = base64.b64decode(v["b"], validate=True)
        except (binascii.Error, ValueError):
            raise argument("KV: the value is not valid base64") from None
    else:
        raise argument("KV: put() takes a string, an ArrayBuffer, a typed array or a ReadableStream")
    if len(data) > limit:
        raise BindingError("E_KV_TOO_LARGE", f"KV: the value is {len(data)} bytes, over the limit of {limit}")
    return data


def _expiration(a: dict[str, Any], now: float) -> float | None:
    exp, ttl = a.get("expiration"), a.get("expirationTtl")
    for name, v in (("expiration", exp), ("expirationTtl", ttl)):
        if v is not None and (type(v) not in (int, float) or v != v or v in (float("inf"), float("-inf"))):
            raise argument(f"KV: {name} must be a number of seconds")
    if ttl is not None:
        if ttl < MIN_TTL_S:
            raise argument(f"KV: expirationTtl is {ttl:g}; it must be at least {MIN_TTL_S} seconds")
        return now + float(ttl)
    if exp is not None:
        if exp < now + MIN_TTL_S:
            raise argument(f"KV: expiration {exp:g} is not at least {MIN_TTL_S} seconds in the future")
        return float(exp)
    return None


def _metadata(v: Any) -> str | None:
    if v is None:
        return None
    if not isinstance(v, str):
        raise argument("KV: metadata must be JSON")
    n = len(v.encode("utf-8", "surrogatepass"))
    if n > MAX_METADATA_BYTES:
        raise BindingError(
            "E_KV_TOO_LARGE", f"KV: the metadata is {n} bytes of JSON, over the limit of {MAX_METADATA_BYTES}"
        )
    return v


def _shown(row: Row | None, kind: str, with_meta: bool) -> Any:
    """The settle value: {v: text | base64 | null, meta: JSON text | null} (JS makes the type)."""
    if row is None:
        return {"v": None, "meta": None}
    value, meta, _ = row
    v = value.decode("utf-8", "replace") if kind in ("text", "json") else base64.b64encode(value).decode("ascii")
    return {"v": v, "meta": meta if with_meta else None}


def run(ctx: OpContext, method: str, a: Any) -> Any:
    if not isinstance(a, dict):
        raise argument("KV: the arguments must be an object")
    ns = (ctx.tenant, ctx.binding.entry.id)  # type: ignore[attr-defined]
    store = ctx.stores.kv
    now = time.time()
    if method in ("get", "getWithMetadata"):
        key, kind = _key(a.get("key")), a.get("type", "text")
        if kind not in TYPES:
            raise argument(f"KV: type must be one of {', '.join(TYPES)}, got {str(kind)[:40]!r}")
        return _then(store.get(ns, key, now), lambda row: _shown(row, kind, method == "getWithMetadata"))
    if method == "put":
        key = _key(a.get("key"))
        value = _value(a.get("value"), value_limit(ctx.limits.max_output_bytes))
        row = (value, _metadata(a.get("metadata")), _expiration(a, now))
        return _then(store.put(ns, key, row), lambda _: None)
    if method == "delete":
        return _then(store.delete(ns, _key(a.get("key"))), lambda _: None)
    if method == "list":
        prefix = a.get("prefix") or ""
        if not isinstance(prefix, str) or len(prefix.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
            raise argument(f"KV: list() prefix must be a string of at most {MAX_KEY_BYTES} bytes")
        limit = a.get("limit", MAX_LIST)
        if type(limit) is not int or not 1 <= limit <= MAX_LIST:
            raise argument(f"KV: list() limit must be a whole number from 1 to {MAX_LIST}")
        after = _cursor(a.get("cursor"))
        return _then(store.list(ns, prefix, after, limit, now), lambda rows: _page(rows, limit))
    raise argument(f"KV: no method {method[:40]!r}")


def _cursor(c: Any) -> str:
    if c is None or c == "":
        return ""
    try:
        return base64.b64decode(c.encode("ascii"), altchars=b"-_", validate=True).decode("utf-8", "surrogatepass")
    except (AttributeError, ValueError, UnicodeError, binascii.Error):
        raise argument("KV: list() cursor is not one list() returned") from None


def _page(rows: list[tuple[str, str | None, float | None]], limit: int) -> dict[str, Any]:
    more = len(rows) > limit
    rows = rows[:limit]
    keys = []
    for name, meta, exp in rows:
        k: dict[str, Any] = {"name": name}
        if exp is not None:
            k["expiration"] = int(exp)
        if meta is not None:
            k["metadata"] = meta
        keys.append(k)
    out: dict[str, Any] = {"keys": keys, "list_complete": not more}
    if more:
        out["cursor"] = base64.urlsafe_b64encode(rows[-1][0].encode("utf-8", "surrogatepass")).decode("ascii")
    return out


def _then(x: Any, f: Any) -> Any:
    if isinstance(x, Coroutine):

        async def later() -> Any:
            return f(await x)

        return later()
    return f(x)


def _like(prefix: str) -> str:
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class KVStore:
    def get(self, ns: tuple[str, str], key: str, now: float) -> Any: ...
    def put(self, ns: tuple[str, str], key: str, row: Row) -> Any: ...
    def delete(self, ns: tuple[str, str], key: str) -> Any: ...
    def list(self, ns: tuple[str, str], prefix: str, after: str, limit: int, now: float) -> Any: ...
    def close(self) -> None: ...


class SqliteKV(KVStore):
    """One file per node; each shard has its own connection (WAL: readers never wait for the writer)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.db: sqlite3.Connection | None = None

    def _conn(self) -> sqlite3.Connection:
        if self.db is None:
            try:
                os.makedirs(os.path.dirname(self.path), exist_ok=True)
                db = sqlite3.connect(self.path, isolation_level=None, timeout=2.0, check_same_thread=False)
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")
                db.execute(
                    "CREATE TABLE IF NOT EXISTS kv (tenant TEXT NOT NULL, ns TEXT NOT NULL, key TEXT NOT NULL, "
                    "value BLOB NOT NULL, metadata TEXT, expiration REAL, PRIMARY KEY (tenant, ns, key)) WITHOUT ROWID"
                )
            except (OSError, sqlite3.Error) as exc:
                raise BindingError("E_BINDING_UNAVAILABLE", f"KV store: {exc}") from None
            self.db = db
        return self.db

    def _run(self, sql: str, args: tuple[Any, ...]) -> list[Any]:
        try:
            return self._conn().execute(sql, args).fetchall()
        except sqlite3.Error as exc:
            self.close()  # reopened on the next call
            raise _unavailable(exc) from None

    def get(self, ns: tuple[str, str], key: str, now: float) -> Row | None:
        rows = self._run("SELECT value, metadata, expiration FROM kv WHERE tenant=? AND ns=? AND key=?", (*ns, key))
        if not rows:
            return None
        if rows[0][2] is not None and rows[0][2] <= now:
            self._run("DELETE FROM kv WHERE tenant=? AND ns=? AND key=? AND expiration <= ?", (*ns, key, now))
            return None
        return rows[0]

    def put(self, ns: tuple[str, str], key: str, row: Row) -> None:
        self._run("INSERT OR REPLACE INTO kv VALUES (?, ?, ?, ?, ?, ?)", (*ns, key, *row))

    def delete(self, ns: tuple[str, str], key: str) -> None:
        self._run("DELETE FROM kv WHERE tenant=? AND ns=? AND key=?", (*ns, key))

    def list(self, ns: tuple[str, str], prefix: str, after: str, limit: int, now: float) -> list[Any]:
        self._run("DELETE FROM kv WHERE tenant=? AND ns=? AND expiration <= ?", (*ns, now))
        return self._run(
            "SELECT key, metadata, expiration FROM kv WHERE tenant=? AND ns=? AND key > ? "
            "AND substr(key, 1, ?) = ? ORDER BY key LIMIT ?",
            (*ns, after, len(prefix), prefix, limit + 1),
        )

    def close(self) -> None:
        if self.db is not None:
            self.db.close()
            self.db = None


class PostgresKV(KVStore):
    """A table several nodes share; calls answer later (on the runner's loop)."""

    def __init__(self, stores: Stores, url: str, table: str) -> None:
        self.stores = stores
        self.url = url
        self.t = table
        self.ready = False

    async def _pool(self) -> Any:
        pool = await self.stores.pool(self.url)
        if not self.ready:
            await pool.execute(
                f"CREATE TABLE IF NOT EXISTS {self.t} (tenant TEXT NOT NULL, ns TEXT NOT NULL, key TEXT NOT NULL, "
                "value BYTEA NOT NULL, metadata TEXT, expiration DOUBLE PRECISION, PRIMARY KEY (tenant, ns, key))"
            )
            self.ready = True
        return pool

    async def get(self, ns: tuple[str, str], key: str, now: float) -> Row | None:
        pool = await self._pool()
        r = await pool.fetchrow(
            f"SELECT value, metadata, expiration FROM {self.t} WHERE tenant=$1 AND ns=$2 AND key=$3", *ns, key
        )
        if r is None:
            return None
        if r[2] is not None and r[2] <= now:
            await pool.execute(
                f"DELETE FROM {self.t} WHERE tenant=$1 AND ns=$2 AND key=$3 AND expiration <= $4", *ns, key, now
            )
            return None
        return bytes(r[0]), r[1], r[2]

    async def put(self, ns: tuple[str, str], key: str, row: Row) -> None:
        pool = await self._pool()
        await pool.execute(
            f"INSERT INTO {self.t} VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant, ns, key) DO UPDATE "
            "SET value = EXCLUDED.value, metadata = EXCLUDED.metadata, expiration = EXCLUDED.expiration",
            *ns,
            key,
            *row,
        )

    async def delete(self, ns: tuple[str, str], key: str) -> None:
        pool = await self._pool()
        await pool.execute(f"DELETE FROM {self.t} WHERE tenant=$1 AND ns=$2 AND key=$3", *ns, key)

    async def list(self, ns: tuple[str, str], prefix: str, after: str, limit: int, now: float) -> list[Any]:
        pool = await self._pool()
        await pool.execute(f"DELETE FROM {self.t} WHERE tenant=$1 AND ns=$2 AND expiration <= $3", *ns, now)
        rows = await pool.fetch(
            f'SELECT key, metadata, expiration FROM {self.t} WHERE tenant=$1 AND ns=$2 AND key COLLATE "C" > $3 '
            f'AND key LIKE $4 ORDER BY key COLLATE "C" LIMIT $5',
            *ns,
            after,
            _like(prefix),
            limit + 1,
        )
        return [tuple(r) for r in rows]


def _unavailable(exc: sqlite3.Error) -> BindingError:
    return BindingError("E_BINDING_UNAVAILABLE", f"KV store: {exc}")


def open_store(stores: Stores) -> KVStore:
    s = stores.settings
    if s.kv_backend == "postgres":
        if not stores.kv_url:
            raise BindingError(
                "E_BINDING_UNAVAILABLE",
                "KV: kv_backend is postgres but no database URL is set ([bindings] kv_database_url)",
            )
        return PostgresKV(stores, stores.kv_url, s.kv_table)
    return SqliteKV(str(stores.data_dir / "kv.sqlite3"))
