"""shardrun: run many tenants' JavaScript workers from Python, dense, fast and safe."""

from shardrun.engine.limits import Limits
from shardrun.errors import ErrorInfo, ShardrunError
from shardrun.runtime.calls import HttpRequest, HttpResponse, Result
from shardrun.runtime.script import Script

__version__ = "0.1.0"

__all__ = ["ErrorInfo", "HttpRequest", "HttpResponse", "Limits", "Result", "Script", "ShardrunError", "__version__"]
