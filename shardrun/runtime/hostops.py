"""The host operations of a WorkerIsolate by name: crypto.subtle here, fetch to the egress host (or refused).

crypto.subtle needs no policy, so it runs for every worker, synchronously: the op is settled before
the isolate's next pump. Each isolate has its own KeyTable (a worker's keys are never another's), kept
while the isolate lives and dropped with it.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING

from shardrun.runtime.calls import HostOp
from shardrun.runtime.subtle import KeyTable, WebCryptoError, run

if TYPE_CHECKING:
    from shardrun.runtime.isolate import HostOps, WorkerIsolate

log = logging.getLogger(__name__)

CRYPTO_OP = "crypto.subtle"
BINDING_OP = "binding"
BODY_OP = "body.read"  # the next piece of a request body that streams in (shardrun.server.bodyin)
_tables: weakref.WeakKeyDictionary[WorkerIsolate, KeyTable] = weakref.WeakKeyDictionary()


def crypto_op(iso: WorkerIsolate, op: HostOp) -> None:
    """Run one crypto.subtle operation with this isolate's keys and settle it."""
    if iso.discarded:
        _tables.pop(iso, None)
        return
    table = _tables.get(iso)
    if table is None:
        table = _tables[iso] = KeyTable()
    try:
        iso.settle(op.opid, True, run(table, op.args))
    except WebCryptoError as exc:
        iso.settle(op.opid, False, {"name": exc.name, "message": exc.message})
    except Exception:  # a bug here must fail this operation, not the loop
        log.exception("crypto.subtle operation failed")
        iso.settle(op.opid, False, {"name": "OperationError", "message": "crypto.subtle: failed inside the server"})


def key_count(iso: WorkerIsolate) -> int:
    """How many CryptoKeys the host keeps for this isolate."""
    table = _tables.get(iso)
    return 0 if table is None else len(table.keys)


def refuse(iso: WorkerIsolate, op: HostOp) -> None:
    """fetch() (or any other operation) when nothing enables it."""
    iso.settle(
        op.opid,
        False,
        {"name": "TypeError", "code": "E_FETCH_DISABLED", "message": f"{op.name}() is not enabled for this worker"},
    )


def host_ops(
    fetch: HostOps | None = None,
    wake: Callable[[WorkerIsolate], None] | None = None,
    bindings: HostOps | None = None,
    body: HostOps | None = None,
) -> HostOps:
    """host_ops for WorkerIsolates: crypto.subtle on the host, env binding calls to `bindings`
    (shardrun.bindings.host), reads of a streamed request body to `body`, everything else to
    `fetch` (or refused)."""
    other = fetch or refuse

    def dispatch(iso: WorkerIsolate, op: HostOp) -> None:
        if op.name != CRYPTO_OP:
            if op.name == BINDING_OP and bindings is not None:
                return bindings(iso, op)
            if op.name == BODY_OP and body is not None:
                return body(iso, op)
            return other(iso, op)
        crypto_op(iso, op)
        if wake is not None:
            wake(iso)

    return dispatch
