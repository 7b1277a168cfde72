"""What a worker may fetch: deny by default.

A worker's `[fetch]` table in worker.toml lists the hosts it may reach:

    [fetch]
    allow = ["api.example.com", "*.example.org", "127.0.0.1:8123"]

- `host` allows that host on any port; `host:port` only that port; `*.suffix` any host
  under suffix (not suffix itself). Schemes: http and https only.
- The addresses a host resolves to are checked too, at connect time, on every redirect hop:
  loopback, private, link-local (169.254.169.254 included), shared, reserved, multicast and
  unspecified addresses are refused, unless the host was allowed by an exact entry (a
  wildcard never reaches them). So `127.0.0.1:8123` passes this rule when listed, and a
  public name that resolves to 10.0.0.5 does not.

Above the tenant's list stand the operator's controls (`[egress]` of the settings, as
`Operator`): a deny list of networks and hosts, and the server's own ports, refused after
the allow list matched, on the URL of every hop and on every address a name resolves to. No
worker.toml entry reaches them. A worker.toml may lower the operator's `[fetch]` limits,
never raise them (`merge`).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator

from shardrun.errors import ShardrunError

HOST_LABELS = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
IPv4or6 = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

LOOPBACK = ("127.0.0.0/8", "::1/128")
DEFAULT_DENY = (
    "169.254.0.0/16",
    "fe80::/10",  # link-local, 169.254.169.254 (cloud metadata) inside
    "fd00:ec2::254/128",  # the IPv6 metadata address (inside fc00::/7 too)
    *LOOPBACK,
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "fc00::/7",  # private
    "100.64.0.0/10",  # shared (carrier-grade NAT)
    "0.0.0.0/8",
    "::/128",  # "this network" (0.0.0.0 and :: reach the host itself)
)


class EgressDenied(OSError):
    """A fetch the worker's policy does not allow (an OSError so that HTTP clients pass it through)."""

    code = "E_EGRESS_DENIED"


@dataclass(frozen=True)
class Operator:
    """The operator's egress controls, which no worker.toml overrides (built from `[egress]`)."""

    networks: tuple[Network, ...] = ()
    hosts: frozenset[str] = frozenset()
    suffixes: tuple[str, ...] = ()
    ports: frozenset[int] = frozenset()  # the server's own: refused on any address
    internal_requires_allow: bool = False

    @classmethod
    def build(
        cls,
        deny: tuple[str, ...] | list[str],
        ports: frozenset[int] | set[int] = frozenset(),
        internal_requires_allow: bool = False,
    ) -> Operator:
        """Controls from deny entries (CIDR, address, host or *.suffix; ValueError names a bad one)."""
        nets: list[Network] = []
        hosts: set[str] = set()
        suffixes: list[str] = []
        for entry in deny:
            kind, value = parse_deny(entry)
            if kind == "net":
                nets.append(value)  # type: ignore[arg-type]
            elif kind == "suffix":
                suffixes.append(value)  # type: ignore[arg-type]
            else:
                hosts.add(value)  # type: ignore[arg-type]
        return cls(tuple(nets), frozenset(hosts), tuple(suffixes), frozenset(ports), internal_requires_allow)

    def denied_address(self, ip: IPv4or6) -> Network | None:
        """The deny network holding this address, if any (IPv4-mapped IPv6 checked as IPv4)."""
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        for net in self.networks:
            if ip.version == net.version and ip in net:
                return net
        return None

    def check(self, host: str, port: int) -> None:
        """E_EGRESS_DENIED if the operator denies this host (name or address) or port."""
        why = self.why(host, port)
        if why:
            where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
            raise denied(
                f"fetch to {where} is denied by the server's egress settings ({why}), "
                "whatever the worker's allow list says"
            )

    def why(self, host: str, port: int) -> str:
        """What the operator's controls deny about host:port ('' if nothing)."""
        if port in self.ports:
            return f"port {port} is one of the server's own"
        ip = _ip(host)
        if ip is not None:
            net = self.denied_address(ip)
            return f"{host} is in {net}" if net is not None else ""
        if host in self.hosts or any(host.endswith("." + s) for s in self.suffixes):
            return f"the host {host} is on its deny list"
        return ""


def parse_deny(entry: str) -> tuple[str, Network | str]:
    """('net', network) | ('host', name) | ('suffix', name) of a deny entry; ValueError names what is wrong."""
    e = entry.strip().lower()
    try:
        return "net", ipaddress.ip_network(e.strip("[]"), strict=False)
    except ValueError:
        pass
    if e.startswith("*.") and HOST_LABELS.fullmatch(e[2:]):
        return "suffix", e[2:]
    if HOST_LABELS.fullmatch(e) and not e.replace(".", "").isdigit():
        return "host", e.rstrip(".")
    raise ValueError(f"deny entry {entry!r}: not a CIDR, an IP address, a host name or *.suffix")


DEFAULT_OPERATOR = Operator.build(DEFAULT_DENY)


class FetchPolicy(BaseModel):
    """`[fetch]` of a worker.toml (defaults: the `[fetch]` table of the settings)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    allow: tuple[str, ...] = Field((), description='hosts this worker may fetch: "host", "host:port", "*.suffix"')
    max_subrequests: int = Field(50, ge=0, le=10_000, description="fetches per request, in all")
    max_concurrent: int = Field(6, ge=1, le=1_000, description="fetches of one request in flight at once (more wait)")
    timeout_ms: float = Field(10_000, gt=0, description="one fetch, all redirects and the body included")
    max_response_bytes: int = Field(10 << 20, ge=0, description="largest response body a fetch reads")
    max_redirects: int = Field(20, ge=0, le=50)
    max_request_bytes: int = Field(10 << 20, ge=0, description="largest request body a fetch sends")
    max_depth: int = Field(8, ge=1, le=64, description="worker-to-worker calls deep (a loop stops here)")
    _operator: Operator = PrivateAttr(default_factory=lambda: DEFAULT_OPERATOR)

    @property
    def operator(self) -> Operator:
        """The operator's controls this policy is held under (the default deny list unless set)."""
        return self._operator

    def under(self, operator: Operator) -> FetchPolicy:
        """This policy held under the operator's controls (never settable from a TOML table)."""
        p = self.model_copy()
        p._operator = operator
        return p

    @field_validator("allow")
    @classmethod
    def _check_allow(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for entry in v:
            parse_entry(entry)
        return v


# The limits a worker.toml may lower but never raise above the operator's [fetch].
LIMITS = (
    "max_subrequests",
    "max_concurrent",
    "timeout_ms",
    "max_response_bytes",
    "max_request_bytes",
    "max_redirects",
    "max_depth",
)


def merge(defaults: FetchPolicy, tenant: dict[str, Any]) -> tuple[FetchPolicy, dict[str, tuple[Any, Any]]]:
    """A worker's policy: its [fetch] over the operator's, each limit at most the operator's.

    Returns the policy (under the defaults' operator controls) and what was clamped,
    as {field: (asked, kept)}. Invalid values raise pydantic's ValidationError.
    """
    asked = FetchPolicy.model_validate({**defaults.model_dump(), **tenant})
    clamped = {k: (getattr(asked, k), getattr(defaults, k)) for k in LIMITS if getattr(asked, k) > getattr(defaults, k)}
    return asked.model_copy(update={k: kept for k, (_, kept) in clamped.items()}).under(defaults.operator), clamped


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
    if e.startswith("["):  # [v6]:port
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
    matched, exact = allows(policy, host, port)
    if not matched:
        where = f"{host}:{port}"
        listed = ", ".join(policy.allow) if policy.allow else "nothing (fetch is denied by default)"
        raise denied(f"fetch to {where} is not allowed for this worker: its [fetch] allow list has {listed}")
    ip = _ip(host)
    if ip is not None and not exact and not address_ok(ip):
        raise denied(f"fetch to {host}: a non-public address, allowed only when listed exactly")
    policy.operator.check(host, port)
    return Target(scheme, host, port, exact)


def allows(policy: FetchPolicy, host: str, port: int) -> tuple[bool, bool]:
    """(matched, exactly) of host:port against the policy's allow list."""
    matched = False
    for entry in policy.allow:
        h, p, wildcard = parse_entry(entry)
        if p is not None and p != port:
            continue
        if wildcard:
            matched = matched or host.endswith("." + h)
        elif host == h:
            return True, True
    return matched, False


def address_ok(ip: IPv4or6) -> bool:
    """A public unicast address (what a host allowed by a wildcard may resolve to)."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast and not ip.is_unspecified
