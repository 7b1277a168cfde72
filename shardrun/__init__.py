"""shardrun: run many tenants' JavaScript workers from Python, dense, fast and safe."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shardrun.engine.limits import Limits
    from shardrun.errors import ErrorInfo, ShardrunError
    from shardrun.runtime.calls import HttpRequest, HttpResponse, Result
    from shardrun.runtime.script import Script

__version__ = "0.1.0"

__all__ = ["ErrorInfo", "HttpRequest", "HttpResponse", "Limits", "Result", "Script", "ShardrunError", "__version__"]

# Imported on first use, so that `import shardrun.<module>` (and the CLI's start-up) pays only for what it uses.
_EXPORTS = {
    "Limits": "shardrun.engine.limits",
    "ErrorInfo": "shardrun.errors",
    "ShardrunError": "shardrun.errors",
    "HttpRequest": "shardrun.runtime.calls",
    "HttpResponse": "shardrun.runtime.calls",
    "Result": "shardrun.runtime.calls",
    "Script": "shardrun.runtime.script",
}


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        import importlib

        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'shardrun' has no attribute {name!r}")
