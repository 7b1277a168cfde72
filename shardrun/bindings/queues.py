"""Queue producers: env.QUEUE.send(body, {delaySeconds}) and sendBatch([{body, delaySeconds}, ...])
insert tasks into the PostgreSQL task table the node's pg source reads ([sources.postgres]; `shardrun
db-init` makes it), one row per message: `script` is the consuming worker, `payload` the body (JSON),
`queue` the producer's queue, `run_after` now + the delay. Any node's `db-listen` runs them through
the consumer's `task(body, env, ctx)` handler, with the source's retries and dead letters.

The consumer must belong to the producer's tenant: a worker cannot hand work to another tenant.
Limits (Cloudflare's): a message is at most 128 KB of JSON, a batch at most 100 messages and 256 KB,
a delay at most 12 hours.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from shardrun.bindings.errors import BindingError, argument

if TYPE_CHECKING:
    from shardrun.bindings.host import OpContext

MAX_MESSAGE_BYTES = 128_000
MAX_BATCH = 100
MAX_BATCH_BYTES = 256_000
MAX_DELAY_S = 43_200


def run(ctx: OpContext, method: str, a: Any) -> Any:
    entry = ctx.binding.entry
    if method not in ("send", "sendBatch") or not isinstance(a, dict) or not isinstance(a.get("m"), list):
        raise argument("Queue: send(body, options) or sendBatch([{body, delaySeconds}, ...])")
    msgs = a["m"]
    if not 1 <= len(msgs) <= MAX_BATCH:
        raise argument(f"Queue: a batch holds 1-{MAX_BATCH} messages, got {len(msgs)}")
    rows, total = [], 0
    for i, m in enumerate(msgs):
        if not isinstance(m, dict) or not isinstance(m.get("body"), str):
            raise argument(f"Queue: message {i} must be {{body: JSON text, delaySeconds}}")
        body = m["body"]
        n = len(body.encode("utf-8", "surrogatepass"))
        total += n
        if n > MAX_MESSAGE_BYTES:
            raise BindingError(
                "E_QUEUE_TOO_LARGE", f"Queue: message {i} is {n} bytes, over the limit of {MAX_MESSAGE_BYTES}"
            )
        try:
            orjson.loads(body)
        except orjson.JSONDecodeError:
            raise argument(f"Queue: message {i} is not JSON") from None
        delay: Any = m.get("delaySeconds", entry.delivery_delay)  # type: ignore[attr-defined]
        if type(delay) not in (int, float) or not 0 <= delay <= MAX_DELAY_S:
            raise argument(f"Queue: delaySeconds must be 0-{MAX_DELAY_S}")
        rows.append((body, float(delay)))
    if total > MAX_BATCH_BYTES:
        raise BindingError(
            "E_QUEUE_TOO_LARGE", f"Queue: the batch is {total} bytes, over the limit of {MAX_BATCH_BYTES}"
        )
    worker = entry.worker or entry.queue  # type: ignore[attr-defined]
    stores = ctx.stores
    if stores.tenant_of is not None:
        try:
            owner = stores.tenant_of(worker)
        except Exception:
            raise BindingError("E_BINDING_UNAVAILABLE", f"Queue: no worker {worker!r} consumes this queue") from None
        if owner != ctx.tenant:
            raise BindingError("E_BINDING_DENIED", f"Queue: worker {worker!r} belongs to another tenant")
    if not stores.queue_url:
        raise BindingError(
            "E_BINDING_UNAVAILABLE", "Queue: no task table is configured ([sources.postgres] database_url)"
        )
    return _insert(ctx, worker, entry.queue, rows)  # type: ignore[attr-defined]


async def _insert(ctx: OpContext, worker: str, queue: str, rows: list[tuple[str, float]]) -> None:
    import asyncpg

    stores = ctx.stores
    assert stores.queue_url is not None
    pool = await stores.pool(stores.queue_url)
    try:
        await pool.execute(
            f"INSERT INTO {stores.queue_table} (script, payload, queue, run_after) "
            "SELECT $1, p::jsonb, $2, now() + make_interval(secs => d) FROM unnest($3::text[], $4::float8[]) AS x(p, d)",
            worker,
            queue,
            [r[0] for r in rows],
            [r[1] for r in rows],
        )
    except asyncpg.UndefinedTableError:
        raise BindingError(
            "E_BINDING_UNAVAILABLE", f"Queue: the task table {stores.queue_table!r} does not exist (shardrun db-init)"
        ) from None
    return None
