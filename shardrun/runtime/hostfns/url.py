"""URL parsing for the URL class (js/src/url.js) on the host: ada (the `can_ada` package).

ada follows the WHATWG URL Standard, with its Unicode IDNA tables, and parses a URL in well
under a microsecond where the standard's reference implementation in JS took ~40 µs. JS keeps
no parser: a URL object holds the components the host returned, and every getter answers from
them without another call.

- `url.parse(input, base)`: the components of `input` parsed against `base` (None: no base;
  JS passes the href of a base it has parsed already), or None when it is not a valid URL.
- `url.set(href, prop, value)`: the components after the setter `prop` (protocol ... hash) ran
  on the URL `href` with `value`. A value the standard ignores (a bad port, a host on a URL
  that cannot have one) leaves the components as they were: no setter fails. The href setter
  is a parse (JS calls url.parse, and its cache).

The components are one list: href, protocol, username, password, host, hostname, port,
pathname, search, hash, origin (COMPONENTS; the order js/src/url.js reads them in). A list
crosses to JS faster than one joined string that JS splits (bench/RESULTS.md).

The ada of can_ada 3.0.0 predates two 2025 changes of the standard to paths ("^" encoded in a
path, the space before an opaque path's query or fragment encoded); `_newer_path` makes them,
and does nothing once ada has them.

Strings come as JS has them: a lone surrogate (which a USVString turns into U+FFFD, as the
standard's IDL conversion does) is replaced here; a string longer than MAX_CHARS is refused
with the reason as a string (JS throws it as a TypeError), before ada sees it.
"""

from __future__ import annotations

import re
from typing import Any

import can_ada

from shardrun.runtime.hostcall import HostCallError, HostFn, HostState

MAX_CHARS = 2 * 1024 * 1024  # Chromium's limit on a URL's length (url::kMaxURLChars)
COMPONENTS = (
    "href",
    "protocol",
    "username",
    "password",
    "host",
    "hostname",
    "port",
    "pathname",
    "search",
    "hash",
    "origin",
)
SETTERS = frozenset(COMPONENTS) - {"href", "origin"}  # the href setter is a parse
_SURROGATE = re.compile("[\ud800-\udfff]")


def _usv(v: Any, what: str) -> str:
    """A string argument as a USVString; a non-string is the caller's bug (E_HOST_ARGUMENT)."""
    if type(v) is not str:
        raise HostCallError(f"url: {what} must be a string")
    return v if v.isascii() else _SURROGATE.sub("\ufffd", v)


def _too_long(v: str, what: str) -> str | None:
    if len(v) <= MAX_CHARS:
        return None
    return f"Invalid URL: the {what} is {len(v)} characters, over the limit of {MAX_CHARS}"


def _components(u: can_ada.URL) -> list[str]:
    href, path = u.href, u.pathname
    if path and ("^" in path if path[0] == "/" else path[-1] == " "):
        href, path = _newer_path(href, path)
    return [href, u.protocol, u.username, u.password, u.host, u.hostname, u.port, path, u.search, u.hash, u.origin]


def _newer_path(href: str, path: str) -> tuple[str, str]:
    """href and pathname as the standard has them since 2025, where the ada of can_ada 3.0.0 differs.

    A path (one that starts with "/") percent-encodes "^"; an opaque path ("data:x") encodes the
    space just before its query or fragment ("sc:a %20?q"), so the space outlives removing them.
    Before the first "?" or "#" of an href is its scheme, authority and path, and only the path can
    hold a "^" (userinfo encodes it, a host cannot have it) or end in a space.
    """
    ends = [i for i in (href.find("?"), href.find("#")) if i >= 0]
    end = min(ends) if ends else len(href)
    if path[0] == "/":
        return href[:end].replace("^", "%5E") + href[end:], path.replace("^", "%5E")
    if end < len(href) and href[end - 1] == " ":
        return href[: end - 1] + "%20" + href[end:], path[:-1] + "%20"
    return href, path


def parse(state: HostState, input: Any, base: Any) -> list[str] | str | None:
    """The components of `input` (against `base`, None for none); None if invalid; a str if refused."""
    s = _usv(input, "the input")
    b = None if base is None else _usv(base, "the base")
    refused = _too_long(s, "input") or (None if b is None else _too_long(b, "base URL"))
    if refused:
        return refused
    try:
        u = can_ada.parse(s) if b is None else can_ada.parse(b) + s
    except ValueError:
        return None
    return _components(u)


def set_component(state: HostState, href: Any, prop: Any, value: Any) -> list[str] | str:
    """The components of the URL `href` after its setter `prop` ran with `value`; a str if refused."""
    h = _usv(href, "the href")
    if type(prop) is not str or prop not in SETTERS:
        raise HostCallError(f"url.set: no setter {prop!r}")
    v = _usv(value, "the value")
    refused = _too_long(h, "href") or _too_long(v, "new " + prop)
    if refused:
        return refused
    try:
        u = can_ada.parse(h)
    except ValueError:
        raise HostCallError("url.set: the href is not a valid URL") from None
    setattr(u, prop, v)
    return _components(u)


FUNCS: dict[str, HostFn] = {"url.parse": parse, "url.set": set_component}
