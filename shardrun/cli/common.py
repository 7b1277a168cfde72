"""What the CLI's commands share: errors as one JSON line, printing results, parsing a request.

Every module of the CLI is imported to build the command tree, whatever the command: their
top levels import only typer and the standard library; the rest is imported by the commands.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import orjson
import typer

from shardrun.errors import UsageError, exit_code

if TYPE_CHECKING:
    from pydantic import ValidationError

    from shardrun.runtime.calls import HttpRequest, LogLine

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def examples(*lines: str) -> str:
    """A command's help epilog: its example command lines (rich markup in them escaped)."""
    return "Examples:\n\n" + "\n".join(f"  $ {line}".replace("[", "\\[") for line in lines)


def validation_message(exc: ValidationError, flags: dict[str, str] | None = None) -> str:
    """A pydantic error as 'where: what' (a flag's own spelling when it came from one), one per problem."""
    flags = flags or {}
    out = []
    for e in exc.errors():
        where = ".".join(map(str, e["loc"]))
        msg, got = e["msg"].removeprefix("Value error, "), repr(e["input"])
        if got not in msg:
            msg += f" (got {got if len(got) <= 80 else got[:79] + '…'})"
        out.append(f"{flags.get(where, where)}: {msg}")
    return "; ".join(out)


def fail(code: str, message: str, stack: str = "") -> NoReturn:
    """Print the error as one JSON line on stderr and exit with its code's exit status."""
    err: dict[str, Any] = {"code": code, "message": message}
    if stack:
        err["stack"] = stack
    sys.stderr.write(orjson.dumps({"error": err}).decode() + "\n")
    raise typer.Exit(exit_code(code))


def parse_request(spec: str, headers: list[str], body: str | None) -> HttpRequest:
    """An --request 'METHOD URL' with its --header and --body flags, checked."""
    from urllib.parse import urlsplit

    from shardrun.runtime.boundary import CR_LF_NUL, TOKEN
    from shardrun.runtime.calls import HttpRequest

    method, _, url = spec.strip().partition(" ")
    method, url = method.upper(), url.strip()
    if not url:
        method, url = "GET", spec.strip()
    if method not in METHODS:
        raise UsageError(f"--request: unknown method {method!r} (use one of {', '.join(METHODS)})")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(f"--request: the URL must be absolute http(s), got {url!r}")
    pairs = []
    for h in headers:
        name, sep, value = h.partition(":")
        if not sep or not TOKEN.fullmatch(name.strip()) or CR_LF_NUL.search(value):
            raise UsageError(f"--header must look like 'Name: value' with a valid name, got {h!r}")
        pairs.append((name.strip(), value.strip()))
    data = None
    if body is not None:
        if body.startswith("@"):
            try:
                data = Path(body[1:]).read_bytes()
            except OSError as exc:
                raise UsageError(f"--body: cannot read {body[1:]}: {exc.strerror}", code="E_NOT_FOUND") from None
        else:
            data = body.encode()
    return HttpRequest(method, url, pairs, data)


def print_log(line: LogLine) -> None:
    sys.stderr.write(f"[{line.level}] {line.text}\n")
    sys.stderr.flush()


def print_outcome(ok: bool, value: Any, err: Any) -> None:
    """Print a task's JSON or a response (status, headers, blank line, body); exit non-zero on error."""
    from shardrun.runtime.calls import HttpResponse

    if not ok:
        fail(err.code, err.message, err.stack)
    if isinstance(value, HttpResponse):
        out = [f"{value.status} {value.status_text}".rstrip()] + [f"{k}: {v}" for k, v in value.headers] + ["", ""]
        sys.stdout.buffer.write("\n".join(out).encode() + value.body)
        if value.body and not value.body.endswith(b"\n"):
            sys.stdout.buffer.write(b"\n")
    else:
        sys.stdout.buffer.write(orjson.dumps(value) + b"\n")
    sys.stdout.flush()
