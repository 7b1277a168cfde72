"""The assets binding: `env.ASSETS.fetch(request)` of a worker whose `[assets]` names a `binding`.

The JS object sends {method, url, headers} of the Request; `shardrun.assets.StaticFiles.fetch`
answers it with the same rules as the front door (the file at the URL's path, ETag, 304, one
range, html_handling redirects, not_found_handling, 405 for other methods, no path out of the
directory), and the response comes back as {status, statusText, headers, b64}. A file larger
than the worker's own output limit (max_output_bytes) is E_RESPONSE_TOO_LARGE: the worker
could not return it. HEAD answers without a body.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

from shardrun.assets import AssetConfig, AssetLimits, Assets, StaticFiles
from shardrun.bindings.errors import BindingError, argument
from shardrun.errors import ShardrunError
from shardrun.runtime.boundary import CR_LF_NUL, TOKEN
from shardrun.runtime.calls import HttpRequest

if TYPE_CHECKING:
    from shardrun.bindings.host import OpContext

MAX_URL = 8192
MAX_HEADERS = 100
_FILES: dict[int, StaticFiles] = {}  # by size limit; each holds an ETag cache (per process)


class AssetsEntry(BaseModel):
    """The assets binding of a worker: its env name, the directory (resolved) and how to serve it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    binding: str
    root: Path
    config: AssetConfig


def files(max_bytes: int) -> StaticFiles:
    f = _FILES.get(max_bytes)
    if f is None:
        if len(_FILES) > 16:
            _FILES.clear()
        f = _FILES[max_bytes] = StaticFiles(AssetLimits(max_bytes))
    return f


def run(ctx: OpContext, method: str, a: Any) -> Any:
    if method != "fetch" or not isinstance(a, dict):
        raise argument("env assets binding: fetch(request) is its one method")
    m, url, headers = a.get("method"), a.get("url"), a.get("headers")
    if not isinstance(m, str) or not TOKEN.fullmatch(m):
        raise argument("assets fetch(): the request method must be an HTTP token")
    if not isinstance(url, str) or len(url) > MAX_URL or not url.startswith(("http://", "https://")):
        raise argument(f"assets fetch(): the request URL must be absolute http(s), at most {MAX_URL} characters")
    if not isinstance(headers, list) or len(headers) > MAX_HEADERS:
        raise argument(f"assets fetch(): at most {MAX_HEADERS} request headers")
    pairs = []
    for h in headers:
        if (
            not isinstance(h, list)
            or len(h) != 2
            or not all(isinstance(x, str) for x in h)
            or not TOKEN.fullmatch(h[0])
            or CR_LF_NUL.search(h[1])
        ):
            raise argument("assets fetch(): each header must be [name, value] with a valid name and value")
        pairs.append((h[0].lower(), h[1]))
    entry: AssetsEntry = ctx.binding.entry  # type: ignore[assignment]
    try:
        res = files(ctx.limits.max_output_bytes).fetch(Assets(entry.root, entry.config), HttpRequest(m, url, pairs))
    except ShardrunError as exc:
        raise BindingError(exc.code, exc.message) from None
    body = b"" if m == "HEAD" else res.body
    return {
        "status": res.status,
        "statusText": res.status_text,
        "headers": [list(h) for h in res.headers],
        "b64": base64.b64encode(body).decode("ascii"),
    }
