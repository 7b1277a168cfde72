"""What every task source shares: the task message, running it through the router, and what
an outcome means for the queue (complete, fail for good, retry later).

A task message (NATS body; the same fields as Postgres columns):

    {"worker": "hello", "payload": {...}, "tenant": "acme", "timeout": 5000, "priority": 10}

`script` is accepted for `worker` (the task executor's format; a trailing `.js` is dropped).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from shardrun import protocol
from shardrun.client import AsyncClient, Reply
from shardrun.errors import ShardrunError, UsageError
from shardrun.runtime.jsonin import parse_payload
from shardrun.workers import Registry, TaskPolicy

# The task itself is wrong: retrying cannot help, the task fails at once with the reason.
PERMANENT = frozenset(
    {
        "E_USAGE",
        "E_BAD_JSON",
        "E_NOT_FOUND",
        "E_BAD_NAME",
        "E_BAD_REQUEST",
        "E_BODY_TOO_LARGE",
        "E_COMPILE",
        "E_WORKER_CONFIG",
        "E_SCRIPT_ENCODING",
        "E_NO_DEFAULT_EXPORT",
        "E_NO_HANDLER",
        "E_BAD_OUTPUT",
    }
)
# Everything else (a thrown error, a limit, a lost shard, overload) is retried with backoff
# until the task's attempts run out; then it is dead-lettered with the last reason.

REPLY_GRACE_S = 10.0  # beyond the task's own timeout: the router answers every request itself


class Verdict(enum.Enum):
    COMPLETED = "completed"
    FAILED = "failed"  # permanent: recorded, not retried
    RETRY = "retry"  # retried (or dead-lettered once attempts run out)


@dataclass(frozen=True)
class Task:
    """One task to run: which worker, with what, as whom, within how long."""

    worker: str
    payload: Any
    tenant: str | None = None
    timeout_ms: float | None = None
    queue: str = "default"
    priority: int | None = None  # place in a busy shard's queue (None: the worker's [task] priority)


@dataclass(frozen=True)
class Outcome:
    verdict: Verdict
    value: Any = None
    code: str | None = None
    message: str = ""

    @property
    def reason(self) -> str:
        return f"{self.code}: {self.message}" if self.code else ""


class TaskPolicies:
    """The [task] policy of each worker (its worker.toml), read as the shards read it."""

    def __init__(self, registry: Registry | None) -> None:
        self.registry = registry

    def of(self, worker: str | None) -> TaskPolicy:
        if self.registry is None or worker is None:
            return TaskPolicy()
        try:
            return self.registry.get(worker).task
        except ShardrunError:  # unknown or broken worker: the router says so when it runs
            return TaskPolicy()

    def apply(self, task: Task, policy: TaskPolicy) -> Task:
        """The task with the worker's timeout when it has none of its own."""
        if task.timeout_ms is None and policy.timeout_ms is not None:
            return Task(task.worker, task.payload, task.tenant, policy.timeout_ms, task.queue, task.priority)
        return task


def worker_name(script: Any) -> str:
    """The worker a `worker`/`script` field names (`hello.js` is the worker `hello`)."""
    if not isinstance(script, str) or not script.strip():
        raise UsageError(
            'the task names no worker: give "worker" (or "script") as a non-empty string', code="E_BAD_REQUEST"
        )
    name = script.strip()
    return name[:-3] if name.endswith(".js") else name


def check_tenant(tenant: Any) -> str | None:
    """The protocol's tenant check, as a task's E_BAD_REQUEST."""
    return _as_task_field(protocol.check_tenant, tenant)


def check_priority(priority: Any) -> int | None:
    """The protocol's priority check, as a task's E_BAD_REQUEST."""
    return _as_task_field(protocol.check_priority, priority)


def _as_task_field(check: Callable[[Any], Any], value: Any) -> Any:
    try:
        return check(value)
    except protocol.ProtocolError as exc:
        raise UsageError(str(exc), code="E_BAD_REQUEST") from None


def check_timeout(timeout: Any) -> float | None:
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout <= 86_400_000:
        raise UsageError(
            f"timeout must be a number of milliseconds between 1 and 86400000, got {timeout!r}", code="E_BAD_REQUEST"
        )
    return float(timeout)


def parse_message(data: bytes, *, max_bytes: int, max_depth: int, queue: str = "default") -> Task:
    """A task from a message body; UsageError (E_BAD_JSON / E_BAD_REQUEST) names the problem."""
    body = parse_payload(data, max_bytes=max_bytes, max_depth=max_depth)
    if not isinstance(body, dict):
        raise UsageError(
            'a task message must be a JSON object like {"worker": "hello", "payload": {...}}', code="E_BAD_REQUEST"
        )
    unknown = set(body) - {"worker", "script", "payload", "tenant", "timeout", "priority"}
    if unknown:
        raise UsageError(f"unknown fields in the task message: {', '.join(sorted(unknown))}", code="E_BAD_REQUEST")
    return Task(
        worker_name(body.get("worker", body.get("script"))),
        body.get("payload", {}),
        check_tenant(body.get("tenant")),
        check_timeout(body.get("timeout")),
        queue,
        check_priority(body.get("priority")),
    )


def judge(reply: Reply) -> Outcome:
    """What a router reply means for the queue."""
    if reply.ok:
        return Outcome(Verdict.COMPLETED, reply.value)
    code = reply.error.code if reply.error else "E_INTERNAL"
    message = reply.error.message if reply.error else "no error detail"
    return Outcome(Verdict.FAILED if code in PERMANENT else Verdict.RETRY, None, code, message)


async def execute(client: AsyncClient, task: Task, default_wall_ms: float) -> Outcome:
    """Run a task through the router (to its tenant's shard) and judge the reply."""
    wall = min(task.timeout_ms or default_wall_ms, default_wall_ms)
    extra: dict[str, Any] = {"wall_ms": wall} if task.timeout_ms else {}
    if task.priority is not None:
        extra["priority"] = task.priority
    try:
        reply = await client.call(
            task.worker, "task", task.payload, timeout=wall / 1000 + REPLY_GRACE_S, tenant=task.tenant, **extra
        )
    except TimeoutError:
        return Outcome(
            Verdict.RETRY, None, "E_TIMEOUT", f"no answer from the router within {wall / 1000 + REPLY_GRACE_S:g}s"
        )
    return judge(reply)


def result_json(value: Any) -> str:
    """A result as JSON text for storage (None is JSON null)."""
    return orjson.dumps(value).decode()
