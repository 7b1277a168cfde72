"""HTTP for static files: which file a path means, conditional requests, ranges, HEAD.

`StaticFiles.match` is the front door's question (a response when a file, or one of
html_handling's redirects, answers the request; None: the worker's turn), `not_found` what
a path with no file gets when no fetch handler takes it, and `fetch` the whole of
`env.ASSETS.fetch(request)`: request in, response out, the same rules.

    ETag        strong, a hash of the content (cached by inode, size and mtime)
    304         If-None-Match (weak comparison, `*`), else If-Modified-Since
    206 / 416   one `bytes=` range (a-b, a-, -n), honouring If-Range; several ranges: the whole file
    307         auto-trailing-slash: /page.html -> /page, /dir -> /dir/, /dir/index.html -> /dir/
"""

from __future__ import annotations

import email.utils
import mimetypes
import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

import orjson

from shardrun.assets.files import Assets, EtagCache, OpenFile, open_asset, segments
from shardrun.errors import ShardrunError
from shardrun.runtime.calls import HttpRequest, HttpResponse

CACHE_CONTROL = "public, max-age=0, must-revalidate"  # Cloudflare's default for assets
UNSATISFIABLE = (-1, -1)
RANGE = re.compile(r"bytes=(\d*)-(\d*)")
TEXTUAL = ("text/", "application/javascript", "application/json", "application/xml", "image/svg+xml")
EXTRA_TYPES = {
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".wasm": "application/wasm",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".webmanifest": "application/manifest+json",
    ".map": "application/json",
}
_TYPES = mimetypes.MimeTypes()  # Python's own table only: the same types on every machine
for _ext, _type in EXTRA_TYPES.items():
    _TYPES.add_type(_type, _ext)


@dataclass(frozen=True)
class AssetLimits:
    """The operator's limits on serving files."""

    max_file_bytes: int = 25 << 20  # Cloudflare's per-file limit


def error_body(code: str, message: str) -> bytes:
    return orjson.dumps({"error": {"code": code, "message": message}})


def content_type(name: str) -> str:
    """The Content-Type of a file name (text types in UTF-8)."""
    t = _TYPES.guess_type(name, strict=False)[0] or "application/octet-stream"
    return t + "; charset=utf-8" if t.startswith(TEXTUAL) else t


class StaticFiles:
    """Serves the files of workers' asset directories (one per process; holds the ETag cache)."""

    def __init__(self, limits: AssetLimits | None = None) -> None:
        self.limits = limits or AssetLimits()
        self.etags = EtagCache()

    # ---- the three questions -------------------------------------------------------
    def match(
        self, assets: Assets, method: str, path: str, query: str, headers: list[tuple[str, str]], mount: str = ""
    ) -> HttpResponse | None:
        """The file (or redirect) that answers a GET or HEAD of `path`; None when no file does.

        `mount` is the prefix the worker is reached under (/w/<worker>), for redirects."""
        if method not in ("GET", "HEAD"):
            return None
        parts = segments(path)
        if parts is None:
            return None
        found = self._find(assets, parts)
        if found is None:
            return None
        if isinstance(found, str):
            location = mount + quote(found, safe="/!$&'()*+,;=:@~-._") + ("?" + query if query else "")
            return HttpResponse(307, "", [("location", location), ("cache-control", CACHE_CONTROL)], b"")
        name, f = found
        try:
            return self._file(f, name, method, headers, 200)
        finally:
            f.close()

    def not_found(self, assets: Assets, method: str, path: str, headers: list[tuple[str, str]]) -> HttpResponse:
        """What a path with no file gets: 404, the nearest 404.html, or the app's index.html (not_found_handling)."""
        mode = assets.config.not_found_handling
        parts = segments(path) or [""]
        if method in ("GET", "HEAD") and mode == "single-page-application":
            f = open_asset(assets.root, ["index.html"])
            if f is not None:
                try:
                    return self._file(f, "index.html", method, headers, 200)
                finally:
                    f.close()
        if method in ("GET", "HEAD") and mode == "404-page":
            for depth in range(len(parts) - 1, -1, -1):
                f = open_asset(assets.root, [*parts[:depth], "404.html"])
                if f is not None:
                    try:
                        return self._file(f, "404.html", method, headers, 404)
                    finally:
                        f.close()
        return HttpResponse(
            404,
            "",
            [("content-type", "application/json")],
            error_body("E_NOT_FOUND", f"no asset at {path[:200]}"),
        )

    def fetch(self, assets: Assets, request: HttpRequest) -> HttpResponse:
        """env.ASSETS.fetch(request): the file at the request URL's path, else not_found's answer."""
        if request.method not in ("GET", "HEAD"):
            return HttpResponse(
                405,
                "",
                [("allow", "GET, HEAD"), ("content-type", "application/json")],
                error_body("E_USAGE", f"assets answer GET and HEAD, not {request.method}"),
            )
        url = urlsplit(request.url)
        path = url.path or "/"
        headers = [(k.lower(), v) for k, v in request.headers]
        res = self.match(assets, request.method, path, url.query, headers)
        return res if res is not None else self.not_found(assets, request.method, path, headers)

    # ---- which file ------------------------------------------------------------------
    def _find(self, assets: Assets, parts: list[str]) -> tuple[str, OpenFile] | str | None:
        """(name, open file) to serve, a path to redirect to, or None."""
        dirs, last = parts[:-1], parts[-1]

        def opened(segs: list[str]) -> OpenFile | None:
            return open_asset(assets.root, segs)

        if assets.config.html_handling == "none":
            f = opened(parts)
            return (last, f) if f is not None else None
        if last == "":  # /dir/: its index.html, else /dir.html without the slash
            f = opened([*dirs, "index.html"])
            if f is not None:
                return "index.html", f
            if dirs and self._exists(opened, [*dirs[:-1], dirs[-1] + ".html"]):
                return "/" + "/".join(dirs)
            return None
        if last == "index.html" and self._exists(opened, parts):
            return "/" + "".join(d + "/" for d in dirs)
        if last.endswith(".html") and len(last) > 5 and self._exists(opened, parts):
            return "/" + "/".join([*dirs, last[:-5]])
        f = opened(parts)
        if f is not None:
            return last, f
        f = opened([*dirs, last + ".html"])
        if f is not None:
            return last + ".html", f
        if self._exists(opened, [*parts, "index.html"]):
            return "/" + "/".join(parts) + "/"
        return None

    @staticmethod
    def _exists(opened: Callable[[list[str]], OpenFile | None], segs: list[str]) -> bool:
        f = opened(segs)
        if f is None:
            return False
        f.close()
        return True

    # ---- one file ------------------------------------------------------------------------
    def _file(self, f: OpenFile, name: str, method: str, headers: list[tuple[str, str]], status: int) -> HttpResponse:
        if f.size > self.limits.max_file_bytes:
            raise ShardrunError(
                f"the asset {name!r} is {f.size} bytes, over the limit of {self.limits.max_file_bytes}",
                code="E_RESPONSE_TOO_LARGE",
            )
        h = {k: v for k, v in headers}
        cached = self.etags.peek(f)  # a 304 of a file hashed before reads nothing
        body = f.read() if cached is None or status != 200 or not _not_modified(h, cached, f.mtime) else b""
        etag = cached or self.etags.get(f, body)
        modified = email.utils.formatdate(f.mtime, usegmt=True)
        meta = [("etag", etag), ("last-modified", modified), ("cache-control", CACHE_CONTROL)]
        if status == 200 and _not_modified(h, etag, f.mtime):
            return HttpResponse(304, "", meta, b"")
        out = [("content-type", content_type(name)), *meta, ("accept-ranges", "bytes")]
        rng = h.get("range") if status == 200 and method == "GET" else None
        if rng is not None and _if_range_holds(h.get("if-range"), etag, modified):
            span = _parse_range(rng, len(body))
            if span == UNSATISFIABLE:
                return HttpResponse(416, "", [*out, ("content-range", f"bytes */{len(body)}")], b"")
            if span is not None:
                start, end = span
                return HttpResponse(
                    206, "", [*out, ("content-range", f"bytes {start}-{end}/{len(body)}")], body[start : end + 1]
                )
        return HttpResponse(status, "", out, body)


def _not_modified(h: dict[str, str], etag: str, mtime: float) -> bool:
    inm = h.get("if-none-match")
    if inm is not None:  # RFC 9110 13.1.2: weak comparison; If-Modified-Since is then ignored
        tags = [t.strip() for t in inm.split(",")]
        return any(t == "*" or t.removeprefix("W/") == etag for t in tags)
    ims = h.get("if-modified-since")
    if ims is None:
        return False
    try:
        when = email.utils.parsedate_to_datetime(ims)
    except (TypeError, ValueError):
        return False
    return when.tzinfo is not None and int(mtime) <= when.timestamp()


def _if_range_holds(value: str | None, etag: str, modified: str) -> bool:
    """If-Range: the range applies only if the representation is the one the client has (strong match)."""
    return value is None or value.strip() in (etag, modified)


def _parse_range(value: str, size: int) -> tuple[int, int] | None:
    """(first, last) byte of one `bytes=` range; UNSATISFIABLE; None to ignore it (malformed, several)."""
    m = RANGE.fullmatch(value.strip())
    if m is None:
        return None
    a, b = m.group(1), m.group(2)
    if not a and not b:
        return None
    if not a:  # the last n bytes
        n = int(b)
        return (max(0, size - n), size - 1) if n > 0 and size > 0 else UNSATISFIABLE
    start = int(a)
    end = int(b) if b else size - 1
    if b and end < start:
        return None
    if start >= size:
        return UNSATISFIABLE
    return start, min(end, size - 1)
