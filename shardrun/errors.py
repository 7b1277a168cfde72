"""Every error shardrun reports carries a stable code and a message naming the problem.

    ShardrunError                      root; .code, .message, .to_dict()
    ├── UsageError         E_USAGE, E_BAD_JSON, E_BAD_REQUEST, E_NOT_FOUND, E_BAD_NAME,
    │                      E_TIMEOUT, E_BODY_TOO_LARGE, E_HEADERS_TOO_LARGE,
    │                      E_CLIENT_GONE                                        the caller's input
    ├── ScriptError        E_COMPILE, E_WORKER_CONFIG, E_SCRIPT_ENCODING, E_NO_DEFAULT_EXPORT, E_NO_HANDLER,
    │                      E_SCRIPT, E_BAD_OUTPUT, E_NEVER_RESPONDS, E_UNHANDLED_REJECTION,
    │                      E_RESPONSE_TOO_LARGE
    ├── LimitError         E_CPU_LIMIT, E_WALL_TIMEOUT, E_OOM, E_STACK     a limit held
    └── RuntimeFault       E_OVERLOADED, E_TENANT_LIMIT, E_SHARD_LOST, E_ROUTER_LOST, E_SHUTTING_DOWN,
                           E_ISOLATE_BUSY, E_ISOLATE_DISCARDED, E_INTERNAL      the host's side

Errors that happen inside a request are not raised: they come back as an `ErrorInfo`
inside the request's `Result`, with the same codes. `CODES` maps each code to its class,
the CLI exit code and the HTTP status the front door uses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class ShardrunError(Exception):
    """Root of every shardrun error."""

    code = "E_INTERNAL"

    def __init__(self, message: str, *, code: str | None = None, stack: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.stack = stack
        if code is not None:
            self.code = code

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.stack:
            d["stack"] = self.stack
        return d

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class UsageError(ShardrunError):
    """The caller's input is wrong (flags, payload, file name)."""

    code = "E_USAGE"


class ScriptError(ShardrunError):
    """The worker script failed to load or failed while handling a request."""

    code = "E_SCRIPT"


class LimitError(ShardrunError):
    """A request or isolate hit one of its limits."""

    code = "E_CPU_LIMIT"


class RuntimeFault(ShardrunError):
    """The host could not run the request."""

    code = "E_INTERNAL"


# code -> (class, CLI exit code, HTTP status)
CODES: dict[str, tuple[type[ShardrunError], int, int]] = {
    "E_USAGE": (UsageError, 2, 400),
    "E_BAD_JSON": (UsageError, 2, 400),
    "E_NOT_FOUND": (UsageError, 2, 404),
    "E_BAD_NAME": (UsageError, 2, 400),
    "E_COMPILE": (ScriptError, 1, 500),
    "E_WORKER_CONFIG": (ScriptError, 1, 500),
    "E_SCRIPT_ENCODING": (ScriptError, 1, 500),
    "E_IMPORT": (ScriptError, 1, 500),
    "E_NO_DEFAULT_EXPORT": (ScriptError, 1, 500),
    "E_NO_HANDLER": (ScriptError, 1, 500),
    "E_SCRIPT": (ScriptError, 1, 500),
    "E_BAD_OUTPUT": (ScriptError, 1, 502),
    "E_NEVER_RESPONDS": (ScriptError, 1, 500),
    "E_UNHANDLED_REJECTION": (ScriptError, 1, 500),
    "E_RESPONSE_TOO_LARGE": (ScriptError, 1, 502),
    "E_CPU_LIMIT": (LimitError, 3, 504),
    "E_WALL_TIMEOUT": (LimitError, 3, 504),
    "E_OOM": (LimitError, 3, 507),
    "E_STACK": (LimitError, 3, 500),
    "E_BAD_REQUEST": (UsageError, 2, 400),
    "E_TIMEOUT": (UsageError, 2, 408),
    "E_BODY_TOO_LARGE": (UsageError, 2, 413),
    "E_HEADERS_TOO_LARGE": (UsageError, 2, 431),
    "E_CLIENT_GONE": (UsageError, 2, 400),  # the client went away before its request body was complete
    "E_OVERLOADED": (RuntimeFault, 4, 503),
    "E_TENANT_LIMIT": (RuntimeFault, 4, 429),
    "E_SHARD_LOST": (RuntimeFault, 4, 502),
    "E_ROUTER_LOST": (RuntimeFault, 4, 502),  # a ZeroMQ client's router went away with the request
    "E_SHUTTING_DOWN": (RuntimeFault, 4, 503),
    "E_ISOLATE_BUSY": (RuntimeFault, 4, 500),
    "E_ISOLATE_DISCARDED": (RuntimeFault, 4, 503),
    "E_INTERNAL": (RuntimeFault, 4, 500),
    # fetch() from a worker (thrown in JS with err.code; the request's code when uncaught)
    "E_EGRESS_DENIED": (ScriptError, 1, 502),
    "E_FETCH_FAILED": (ScriptError, 1, 502),
    "E_FETCH_TIMEOUT": (ScriptError, 1, 504),
    "E_FETCH_DISABLED": (ScriptError, 1, 502),
    "E_SUBREQUEST_LIMIT": (LimitError, 3, 502),
    "E_LOOP_LIMIT": (LimitError, 3, 508),
    # task sources
    "E_LEASE_EXPIRED": (RuntimeFault, 4, 500),
    # env bindings (thrown in JS with err.code; the request's code when uncaught)
    "E_BINDING_ARGUMENT": (ScriptError, 1, 500),  # a call's arguments are wrong (or name no binding of the worker)
    "E_BINDING_LIMIT": (LimitError, 3, 502),  # the request's calls cap of that binding kind
    "E_BINDING_UNAVAILABLE": (RuntimeFault, 4, 503),  # its store cannot be reached or is not configured
    "E_BINDING_DENIED": (ScriptError, 1, 500),  # a queue whose consumer is another tenant's
    "E_KV_TOO_LARGE": (ScriptError, 1, 500),  # key, value or metadata over Cloudflare's limits
    "E_QUEUE_TOO_LARGE": (ScriptError, 1, 500),
    "E_SQL": (ScriptError, 1, 500),  # SQL error: the message and the statement
    "E_SQL_TIMEOUT": (LimitError, 3, 504),  # past [bindings] sql_statement_ms
    "E_SQL_DENIED": (ScriptError, 1, 500),  # ATTACH, VACUUM INTO, load_extension, file pragmas...
    "E_DB_FULL": (LimitError, 3, 507),  # past [bindings] sql_max_mb
    "E_DB_CORRUPT": (RuntimeFault, 4, 500),  # the database file is not a database
    "E_DATA_DIR": (RuntimeFault, 4, 500),  # the data directory is not writable (at start)
}

EXIT_OK = 0
EXIT_SCRIPT = 1
EXIT_USAGE = 2
EXIT_LIMIT = 3
EXIT_INTERNAL = 4


def exit_code(code: str) -> int:
    """The CLI exit code for an error code."""
    return CODES.get(code, (RuntimeFault, EXIT_INTERNAL, 500))[1]


def http_status(code: str) -> int:
    """The HTTP status for an error code."""
    return CODES.get(code, (RuntimeFault, EXIT_INTERNAL, 500))[2]


def error(code: str, message: str, *, stack: str = "") -> ShardrunError:
    """Build the exception of the right class for a code."""
    cls = CODES.get(code, (RuntimeFault,))[0]
    return cls(message, code=code, stack=stack)


@dataclass(frozen=True)
class ErrorInfo:
    """An error as carried in a result: stable code, message, the script's own stack."""

    code: str
    message: str
    name: str = "Error"
    stack: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.name and self.name != "Error":
            d["name"] = self.name
        if self.stack:
            d["stack"] = self.stack
        return d

    def raise_(self) -> None:
        raise error(self.code, self.message, stack=self.stack)
