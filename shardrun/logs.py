"""Structured logs: JSON lines when stderr is not a terminal, readable lines when it is.

Each process calls `configure(role)` after it starts; stdlib `logging` (used by every
module, loggers `shardrun.<role>`) goes through the same renderer, so one stream carries
the supervisor's, the router's and the shards' lines, each with its role and pid.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

import structlog


def configure(role: str, level: int | str = logging.INFO) -> None:
    """Set up logging for this process (call once, after fork); level: a number or a name ("info")."""
    tty = sys.stderr.isatty()
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Any = structlog.dev.ConsoleRenderer(colors=False) if tty else structlog.processors.JSONRenderer()
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared, processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer]
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper() if isinstance(level, str) else level)
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(role=role, pid=os.getpid())


def get(name: str) -> Any:
    """A structured logger."""
    return structlog.get_logger(name)
