"""What the CLI's commands share: errors as one JSON line, printing results, parsing a request."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit

import orjson
import typer

from shardrun.errors import UsageError, exit_code
from shardrun.runtime.boundary import CR_LF_NUL, TOKEN
from shardrun.runtime.calls import HttpRequest, HttpResponse, LogLine

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def fail(code: str, message: str, stack: str = "") -> NoReturn:
    """Print the error as one JSON line on stderr and exit with its code's exit status."""
    err: dict[str, Any] = {"code": code, "message": message}
    if stack:
        err["stack"] = stack
    sys.stderr.write(orjson.dumps({"error": err}).decode() + "\n")
    raise typer.Exit(exit_code(code))


def parse_request(spec: str, headers: list[str], body: str | None) -> HttpRequest:
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
