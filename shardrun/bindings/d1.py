"""D1 databases: env.DB.prepare(sql).bind(...).first()/all()/run()/raw(), batch() and exec(), on
SQLite: one file per (tenant, database_name), `<data_dir>/d1/<tenant hash>/<name>.sqlite3`, opened by
the shard that runs the tenant's request.

What tenant SQL cannot do, refused by SQLite's authorizer: ATTACH and DETACH (also what VACUUM
INTO needs), load_extension(), BEGIN/COMMIT/SAVEPOINT (a batch is the transaction, as in D1), and
every pragma but the read-only schema ones and foreign_keys. One call (a statement, a batch or an
exec) runs at most [bindings] sql_statement_ms (SQLite's progress handler interrupts it); a database
grows to at most sql_max_mb (max_page_count); a result holds at most the worker's max_output_bytes.
A database file that is not a database fails the call with E_DB_CORRUPT (and is closed); the shard
goes on.
"""

from __future__ import annotations

import base64
import binascii
import os
import sqlite3
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shardrun.bindings.errors import BindingError, argument

if TYPE_CHECKING:
    from shardrun.bindings.config import BindingSettings
    from shardrun.bindings.host import OpContext

MAX_SQL_CHARS = 100_000  # D1's limits: statement length, bound values, string/BLOB/row size
MAX_PARAMS = 100
MAX_VALUE_BYTES = 2_000_000
CACHE_KIB = 1024  # page cache of one open database (SQLite's default is 2 MiB)
MAX_BATCH = 1000
PROGRESS_EVERY = 1000  # SQLite VM steps between deadline checks
READ_PRAGMAS = frozenset(
    {
        "table_info",
        "table_xinfo",
        "table_list",
        "index_list",
        "index_info",
        "index_xinfo",
        "foreign_key_list",
        "foreign_key_check",
        "quick_check",
        "integrity_check",
        "collation_list",
        "function_list",
        "page_count",
        "freelist_count",
        "data_version",
    }
)
SET_PRAGMAS = frozenset({"foreign_keys", "defer_foreign_keys", "case_sensitive_like", "recursive_triggers", "optimize"})
DENIED_FUNCTIONS = frozenset({"load_extension", "readfile", "writefile", "edit", "fts3_tokenizer"})


class Database:
    def __init__(self, path: Path, settings: BindingSettings) -> None:
        self.path = path
        self.settings = settings
        self.db: sqlite3.Connection | None = None
        self.deadline = 0.0
        self.internal = False  # our own BEGIN/COMMIT pass the authorizer
        self.denied = ""
        self.page = 4096
        self.size = 0  # the file's size after the last change (read again after a write)
        # Our own statements carry a comment tenant SQL cannot guess: the connection's statement
        # cache is keyed by the text, and a cached statement is not authorized again.
        self.mark = f" -- shardrun {os.urandom(16).hex()}"

    # ---- connection ---------------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        if self.db is not None:
            return self.db
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(str(self.path), isolation_level=None, timeout=0, check_same_thread=False)
        except (OSError, sqlite3.Error) as exc:
            raise BindingError("E_BINDING_UNAVAILABLE", f"D1: cannot open the database: {exc}") from None
        try:
            db.execute(f"PRAGMA busy_timeout = {int(self.settings.sql_statement_ms)}")
            db.execute("PRAGMA journal_mode=WAL")
            self.page = page = int(db.execute("PRAGMA page_size").fetchone()[0])
            db.execute(f"PRAGMA max_page_count = {max(1, (self.settings.sql_max_mb << 20) // page)}")
            db.execute("PRAGMA trusted_schema = OFF")
            db.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
            db.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
            db.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES)
            db.setlimit(sqlite3.SQLITE_LIMIT_SQL_LENGTH, MAX_SQL_CHARS * 4)
            db.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, MAX_PARAMS)
        except sqlite3.Error as exc:
            db.close()
            raise _error(exc, "") from None
        db.set_authorizer(self._authorize)
        db.set_progress_handler(self._progress, PROGRESS_EVERY)
        self.db = db
        return db

    def close(self) -> None:
        if self.db is not None:
            self.db.close()
            self.db = None

    def _authorize(self, action: int, a1: str | None, a2: str | None, dbname: str | None, trigger: str | None) -> int:
        if self.internal:
            return sqlite3.SQLITE_OK
        why = ""
        if action in (sqlite3.SQLITE_ATTACH, sqlite3.SQLITE_DETACH):
            why = "ATTACH, DETACH and VACUUM INTO are not allowed"
        elif action == sqlite3.SQLITE_PRAGMA:
            name = (a1 or "").lower()
            if name not in READ_PRAGMAS and name not in SET_PRAGMAS:  # the read ones have no effect when set
                why = f"PRAGMA {name} is not allowed"
        elif action == sqlite3.SQLITE_FUNCTION and (a2 or "").lower() in DENIED_FUNCTIONS:
            why = f"{a2}() is not allowed"
        elif action in (sqlite3.SQLITE_TRANSACTION, sqlite3.SQLITE_SAVEPOINT):
            why = "transactions are not allowed in SQL: use batch(), which runs as one transaction"
        elif dbname not in (None, "main", "temp"):
            why = f"database {dbname!r} is not this one"
        if why:
            self.denied = why
            return sqlite3.SQLITE_DENY
        return sqlite3.SQLITE_OK

    def _progress(self) -> int:
        return 1 if time.monotonic() > self.deadline else 0

    # ---- calls --------------------------------------------------------------
    def query(self, stmts: list[tuple[str, list[Any]]], mode: str, deadline: float, max_bytes: int) -> Any:
        db = self._conn()
        self.deadline = deadline
        budget = [max_bytes]
        out = []
        batch = len(stmts) > 1 or mode == "batch"
        if batch:
            self._internal(db, "BEGIN IMMEDIATE")
        try:
            for sql, params in stmts:
                out.append(self._one(db, sql, params, "all" if mode == "batch" else mode, budget))
            if batch:
                self._internal(db, "COMMIT")
        except BaseException:
            if batch and db.in_transaction:
                self._internal(db, "ROLLBACK")
            raise
        return out if mode == "batch" else out[0]

    def exec(self, sql: str, deadline: float) -> dict[str, Any]:
        db = self._conn()
        self.deadline = deadline
        t0 = time.perf_counter()
        count = 0
        for stmt in _statements(sql):
            self._execute(db, stmt, []).fetchall()
            count += 1
        return {"count": count, "duration": (time.perf_counter() - t0) * 1000}

    def _size(self, db: sqlite3.Connection) -> int:
        self.internal = True
        try:
            self.size = int(db.execute("PRAGMA page_count" + self.mark).fetchone()[0]) * self.page
            return self.size
        except sqlite3.Error:
            return 0
        finally:
            self.internal = False

    def _internal(self, db: sqlite3.Connection, sql: str) -> None:
        self.internal = True
        try:
            db.execute(sql + self.mark)
        except sqlite3.Error as exc:
            raise _error(exc, sql) from None
        finally:
            self.internal = False

    def _execute(self, db: sqlite3.Connection, sql: str, params: list[Any]) -> sqlite3.Cursor:
        self.denied = ""
        try:
            return db.execute(sql, params)
        except sqlite3.Warning as exc:  # "You can only execute one statement at a time."
            raise BindingError("E_SQL", f"D1: {exc} (use exec() or batch() for several) in: {_shown(sql)}") from None
        except sqlite3.Error as exc:
            raise self._fail(exc, sql) from None

    def _fail(self, exc: sqlite3.Error, sql: str) -> BindingError:
        if self.denied:
            return BindingError("E_SQL_DENIED", f"D1: not authorized: {self.denied}, in: {_shown(sql)}")
        err = _error(exc, sql, self.settings.sql_statement_ms)
        if err.code == "E_DB_CORRUPT":
            self.close()
        return err

    def _one(self, db: sqlite3.Connection, sql: str, params: list[Any], mode: str, budget: list[int]) -> Any:
        t0 = time.perf_counter()
        changes0 = db.total_changes
        cur = self._execute(db, sql, params)
        names = [d[0] for d in cur.description] if cur.description else []
        rows: list[list[Any]] = []
        try:
            for r in cur:  # one row at a time; a value is at most MAX_VALUE_BYTES (SQLite's length limit)
                # what the row costs as JSON, about: a BLOB goes as an array of numbers (D1's shape)
                budget[0] -= sum(
                    len(v) * (4 if isinstance(v, bytes) else 1) + 8 if isinstance(v, (str, bytes)) else 8 for v in r
                )
                if budget[0] < 0:
                    raise BindingError(
                        "E_SQL", f"D1: the result is over the limit of the worker's max_output_bytes, in: {_shown(sql)}"
                    )
                rows.append([list(v) if isinstance(v, bytes) else v for v in r])
                if mode == "first":
                    break
        except sqlite3.Error as exc:
            raise self._fail(exc, sql) from None
        last = cur.lastrowid or 0
        cur.close()
        changes = db.total_changes - changes0
        ms = (time.perf_counter() - t0) * 1000
        meta = {
            "duration": ms,
            "timings": {"sql_duration_ms": ms},
            "changes": changes,
            "last_row_id": last if changes else 0,
            "changed_db": changes > 0,
            "rows_read": len(rows),
            "rows_written": changes,
            "size_after": self._size(db) if changes or not self.size else self.size,
            "served_by": "shardrun",
        }
        return {"columns": names, "rows": rows, "meta": meta}


def _statements(sql: str) -> list[str]:
    """The statements of an exec() text, each complete (SQLite's own test), without empty ones."""
    out, start = [], 0
    for i, ch in enumerate(sql):
        if ch == ";" and sqlite3.complete_statement(sql[start : i + 1]):
            if sql[start:i].strip():
                out.append(sql[start : i + 1])
            start = i + 1
    if sql[start:].strip():
        out.append(sql[start:])
    return out


def _shown(sql: str) -> str:
    s = " ".join(sql.split())
    return s if len(s) <= 200 else s[:200] + "..."


def _error(exc: sqlite3.Error, sql: str, limit_ms: float = 0) -> BindingError:
    name = getattr(exc, "sqlite_errorname", "")
    msg = str(exc)
    if name == "SQLITE_INTERRUPT" or msg == "interrupted":
        return BindingError(
            "E_SQL_TIMEOUT", f"D1: the statement ran past its time limit of {limit_ms:g} ms, in: {_shown(sql)}"
        )
    if name in ("SQLITE_NOTADB", "SQLITE_CORRUPT") or "not a database" in msg or "malformed" in msg:
        return BindingError("E_DB_CORRUPT", f"D1: the database file is corrupt ({msg})")
    if name == "SQLITE_FULL" or "full" in msg:
        return BindingError("E_DB_FULL", f"D1: the database is full (its size limit); in: {_shown(sql)}")
    if name == "SQLITE_BUSY":
        return BindingError("E_BINDING_UNAVAILABLE", f"D1: the database is locked by another writer ({msg})")
    return BindingError("E_SQL", f"D1: {msg}, in: {_shown(sql)}")


def _params(raw: Any) -> list[Any]:
    if not isinstance(raw, list):
        raise argument("D1: bind() values must be a list")
    if len(raw) > MAX_PARAMS:
        raise argument(f"D1: {len(raw)} bound values, over the limit of {MAX_PARAMS}")
    out: list[Any] = []
    for v in raw:
        if v is None or type(v) in (str, int, float):
            if type(v) is int and not -(1 << 63) <= v < 1 << 63:
                raise argument("D1: an integer out of SQLite's 64-bit range")
            out.append(v)
        elif isinstance(v, dict) and isinstance(v.get("b"), str):
            try:
                out.append(base64.b64decode(v["b"], validate=True))
            except (binascii.Error, ValueError):
                raise argument("D1: a bound blob is not valid base64") from None
        else:
            raise argument("D1: bind() takes null, numbers, strings, booleans and ArrayBuffers")
    return out


def run(ctx: OpContext, method: str, a: Any) -> Any:
    if not isinstance(a, dict):
        raise argument("D1: the arguments must be an object")
    deadline = min(ctx.deadline, time.monotonic() + ctx.stores.settings.sql_statement_ms / 1000)
    db = ctx.stores.database(ctx.tenant, ctx.binding.entry.database_name)  # type: ignore[attr-defined]
    if method == "exec":
        sql = a.get("sql")
        if not isinstance(sql, str) or not sql.strip() or len(sql) > MAX_SQL_CHARS:
            raise argument(f"D1: exec() takes SQL text of 1-{MAX_SQL_CHARS} characters")
        return db.exec(sql, deadline)
    if method != "query":
        raise argument(f"D1: no method {method[:40]!r}")
    mode, raw = a.get("mode"), a.get("s")
    if mode not in ("all", "first", "run", "raw", "batch"):
        raise argument("D1: mode must be all, first, run, raw or batch")
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_BATCH or (mode != "batch" and len(raw) != 1):
        raise argument(f"D1: a batch holds 1-{MAX_BATCH} statements")
    stmts = []
    for s in raw:
        if not (isinstance(s, list) and len(s) == 2 and isinstance(s[0], str)):
            raise argument("D1: a statement must be [sql, values]")
        if not s[0].strip() or len(s[0]) > MAX_SQL_CHARS:
            raise argument(f"D1: a statement must be 1-{MAX_SQL_CHARS} characters")
        stmts.append((s[0], _params(s[1])))
    return db.query(stmts, mode, deadline, ctx.limits.max_output_bytes)
