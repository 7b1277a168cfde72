"""HTTP/1.1 syntax, no sockets: the Host and request-target grammar, and a response's bytes.

`parse_authority` and `parse_target` accept only what RFC 3986 / RFC 9112 allow, so URLs are
built from validated parts; `render` is the last guard against response splitting (a status
that is not 100-599, or a CR, LF or NUL inside a head line, raises BadOutput, never reaches
the wire).
"""

from __future__ import annotations

import ipaddress
import re
from http import HTTPStatus

import orjson

from shardrun.runtime.boundary import CR_LF_NUL, BadOutput

HOST_CHARS = re.compile(r"(?:[a-z0-9\-._~!$&'()*+,;=]|%[0-9a-f]{2}){0,255}")  # RFC 3986 reg-name (IPv4 too)
PORT = re.compile(r"[0-9]{1,5}")
ABSOLUTE = re.compile(r"(?i)https?://([^/?#]*)(.*)")
PHRASES = {int(s): s.phrase for s in HTTPStatus}
HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "content-length", "upgrade", "te", "trailer", "proxy-connection"}
)


def parse_authority(value: str) -> tuple[str, str]:
    """(host, host[:port]) of a Host header or a URL's authority; ValueError naming what is wrong.

    A host is an RFC 3986 reg-name (which covers IPv4) or a bracketed IPv6 literal, the port
    a number from 0 to 65535; nothing else. Lower case, a trailing dot dropped."""
    v = value.lower()
    if v.startswith("["):
        end = v.find("]")
        if end < 0:
            raise ValueError("an IPv6 literal without its closing ']'")
        host, rest = v[: end + 1], v[end + 1 :]
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            raise ValueError(f"{host[:60]!r} is not an IPv6 address") from None
    else:
        host, colon, port = v.partition(":")
        rest = colon + port
        if not HOST_CHARS.fullmatch(host):
            raise ValueError(f"{host[:60]!r} is not a host name or address")
        host = host.removesuffix(".")
    if rest:
        port = rest[1:]
        if rest[0] != ":" or not PORT.fullmatch(port) or int(port) > 65535:
            raise ValueError(f"{rest[:60]!r} after the host is not ':' and a port from 0 to 65535")
        return host, f"{host}:{int(port)}"
    return host, host


def parse_target(target: str, method: str) -> tuple[str | None, str, str]:
    """(authority or None, path, query) of a request-target: origin-form, absolute-form or `*`."""
    if target == "*":
        if method != "OPTIONS":
            raise ValueError("the request target * is only for OPTIONS")
        return None, "*", ""
    authority = None
    if not target.startswith("/"):
        m = ABSOLUTE.fullmatch(target)
        if m is None:
            raise ValueError("the request target must be a path, an absolute http URL or *")
        authority, target = m.group(1), m.group(2) or "/"
        if not authority or "@" in authority:
            raise ValueError("an absolute request target needs a host and no user name")
        if not target.startswith(("/", "?")):
            raise ValueError("malformed absolute request target")
    if "#" in target:
        raise ValueError("a request target cannot have a #fragment")
    path, _, query = target.partition("?")
    return authority, path or "/", query


def render(
    status: int,
    headers: list[tuple[str, str]],
    body: bytes,
    *,
    head: bool = False,
    close: bool = False,
    reason: str = "",
    chunked: bool = False,
) -> bytes:
    """The bytes of one HTTP/1.1 response (Content-Length framing, or only the head of a chunked
    one with `chunked`; hop-by-hop headers dropped).

    The last line of defence against response splitting: a status that is not a 3-digit
    number, or a CR, LF or NUL anywhere in the head, raises BadOutput instead of being written."""
    if type(status) is not int or not 100 <= status <= 599:
        raise BadOutput(f"refusing to write a response with status {status!r}")
    if not reason:
        reason = PHRASES.get(status, "")
    lines = [f"HTTP/1.1 {status} {reason}".rstrip()]
    for k, v in headers:
        if k.lower() not in HOP_BY_HOP:
            lines.append(f"{k}: {v}")
    if CR_LF_NUL.search("".join(lines)):
        raise BadOutput("refusing to write a response head with CR, LF or NUL inside a line")
    lines.append("transfer-encoding: chunked" if chunked else f"content-length: {len(body)}")
    if close:
        lines.append("connection: close")
    head_bytes = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")
    return head_bytes if head else head_bytes + body


def error_body(code: str, message: str) -> bytes:
    """The JSON body of an error response."""
    return orjson.dumps({"error": {"code": code, "message": message}})
