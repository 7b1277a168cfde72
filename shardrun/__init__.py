"""shardrun: run many tenants' JavaScript workers from Python, dense, fast and safe."""

from .calls import HttpRequest, HttpResponse, Result
from .errors import ErrorInfo, ShardrunError
from .limits import Limits
from .script import Script

__version__ = "0.1.0"

__all__ = ["ErrorInfo", "HttpRequest", "HttpResponse", "Limits", "Result", "Script", "ShardrunError", "__version__"]
