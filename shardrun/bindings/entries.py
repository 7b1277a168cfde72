"""One entry of each binding section of a worker.toml (wrangler's field names; others are refused)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

STORE = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


class KVNamespace(BaseModel):
    """[[kv_namespaces]]: a namespace of the worker's tenant, named by `id` (another tenant's `id` is
    another namespace)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    binding: str = Field(min_length=1, max_length=64)
    id: str = Field(pattern=STORE, description="the namespace (1-64 of A-Z a-z 0-9 _ . -)")
    preview_id: str | None = Field(None, description="accepted for wrangler files; not used")


class D1Database(BaseModel):
    """[[d1_databases]]: the SQLite database `database_name` of the worker's tenant."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    binding: str = Field(min_length=1, max_length=64)
    database_name: str = Field(pattern=STORE)
    database_id: str | None = Field(None, description="accepted for wrangler files; not used")
    migrations_dir: str | None = Field(None, description="accepted for wrangler files; not used")


class QueueProducer(BaseModel):
    """[[queues.producers]]: send() puts tasks on the task queue `queue`, run by the `task` handler of
    the worker of that name (or `worker`), which must belong to the same tenant."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    binding: str = Field(min_length=1, max_length=64)
    queue: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")
    worker: str | None = Field(None, pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$", description="default: the queue's name")
    delivery_delay: int = Field(0, ge=0, le=43_200, description="seconds before a message may run (default delay)")
