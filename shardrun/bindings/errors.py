"""What a binding call refuses: an error with a stable code (shardrun.errors.CODES) that reaches the
worker's JS as an Error with `err.code`."""

from __future__ import annotations

from typing import Any


def info(code: str, message: str, name: str = "Error") -> dict[str, str]:
    """The settle value of a failed binding call."""
    return {"name": name, "code": code, "message": message}


class BindingError(Exception):
    def __init__(self, code: str, message: str, name: str = "Error") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.name = name

    def info(self) -> dict[str, Any]:
        return info(self.code, self.message, self.name)


def argument(message: str) -> BindingError:
    return BindingError("E_BINDING_ARGUMENT", message, "TypeError")
