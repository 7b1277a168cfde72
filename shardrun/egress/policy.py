"""What a worker may fetch: deny by default.

A worker's `[fetch]` table in worker.toml lists the hosts it may reach:

    [fetch]
    allow = ["api.example.com", "*.example.org", "127.0.0.1:8123"]

- `host` allows that host on any port; `host:port` only that port; `*.suffix` any host
  under suffix (not suffix itself). Schemes: http and https only.
- The addresses a host resolves to are checked too, at connect time, on every redirect hop:
  loopback, private, link-local (169.254.169.254 included), shared, reserved, multicast and
  unspecified addresses are refused, unless the host was allowed by an exact entry (a
  wildcard never reaches them). So `127.0.0.1:8123` works when listed, and a public name
  that resolves to 10.0.0.5 does not.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..errors import ShardrunError

HOST_LABELS = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
IPv4or6 = ipaddress.IPv4Address | ipaddress.IPv6Address


class EgressDenied(OSError):
    """A fetch the worker's policy does not allow (an OSError so that HTTP clients pass it through)."""

    code = "E_EGRESS_DENIED"


class FetchPolicy(BaseModel):
    """`[fetch]` of a worker.toml (defaults: the `[fetch]` table of the settings)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    allow: tuple[str, ...] = Field((), description='hosts this worker may fetch: "host", "host:port", "*.suffix"')
    max_subrequests: int = Field(50, ge=0, le=10_000, description="fetches per request, in all")
    max_concurrent: int = Field(6, ge=1, le=1_000, description="fetches of one request in flight at once (more wait)")
    timeout_ms: float = Field(10_000, gt=0, description="one fetch, all redirects and the body included")
    max_response_bytes: int = Field(10 << 20, ge=0, description="largest response body a fetch reads")
    max_redirects: int = Field(20, ge=0, le=50)
    max_depth: int = Field(8, ge=1, le=64, description="worker-to-worker calls deep (a loop stops here)")

    @field_validator("allow")
    @classmethod
    def _check_allow(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for entry in v:
            parse_entry(entry)
        return v


@dataclass(frozen=True)
class Target:
    """A URL the policy allowed, and whether its host was named exactly (private addresses allowed)."""

    scheme: str
    host: str
    port: int
    exact: bool


def parse_entry(entry: str) -> tuple[str, int | None, bool]:
    """(host, port or None, wildcard) of an allow entry; ValueError names what is wrong."""
    e = entry.strip().lower()
    wildcard = e.startswith("*.")
    if wildcard:
        e = e[2:]
    port: int | None = None
    if e.startswith("["):                      # [v6]:port
        host, _, rest = e[1:].partition("]")
        if rest:
            if not rest.startswith(":") or not rest[1:].isdigit():
                raise ValueError(f"allow entry {entry!r}: expected [ipv6]:port")
            port = int(rest[1:])
    elif e.count(":") == 1:
        host, _, p = e.partition(":")
        if not p.isdigit():
            raise ValueError(f"allow entry {entry!r}: the port must be a number")
        port = int(p)
    else:
        host = e
    if port is not None and not 0 < port < 65536:
        raise ValueError(f"allow entry {entry!r}: port out of range")
    if _ip(host) is None and not HOST_LABELS.fullmatch(host):
        raise ValueError(f"allow entry {entry!r}: not a host name, an IP address, host:port or *.suffix")
    if wildcard and _ip(host) is not None:
        raise ValueError(f"allow entry {entry!r}: a wildcard needs a domain suffix, not an address")
    return host, port, wildcard


def _ip(host: str) -> IPv4or6 | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def denied(message: str) -> ShardrunError:
    return ShardrunError(message, code="E_EGRESS_DENIED")


def check_url(url: str, policy: FetchPolicy) -> Target:
    """The target of a URL if the policy allows it; else E_EGRESS_DENIED naming why."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise denied(f"fetch to an invalid URL {url[:200]!r}: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise denied(f"fetch of a {scheme}: URL is not allowed (only http and https)")
    host = (parts.hostname or "").lower().rstrip(".")
    if not host:
        raise denied(f"fetch to {url[:200]!r}: no host")
    port = port or (443 if scheme == "https" else 80)
    exact = False
    matched = False
    for entry in policy.allow:
        h, p, wildcard = parse_entry(entry)
        if p is not None and p != port:
            continue
        if wildcard:
            matched = matched or host.endswith("." + h)
        elif host == h:
            matched = exact = True
            break
    if not matched:
        where = f"{host}:{port}"
        listed = ", ".join(policy.allow) if policy.allow else "nothing (fetch is denied by default)"
        raise denied(f"fetch to {where} is not allowed for this worker: its [fetch] allow list has {listed}")
    ip = _ip(host)
    if ip is not None and not exact and not address_ok(ip):
        raise denied(f"fetch to {host}: a non-public address, allowed only when listed exactly")
    return Target(scheme, host, port, exact)


def address_ok(ip: IPv4or6) -> bool:
    """A public unicast address (what a host allowed by a wildcard may resolve to)."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast and not ip.is_unspecified
